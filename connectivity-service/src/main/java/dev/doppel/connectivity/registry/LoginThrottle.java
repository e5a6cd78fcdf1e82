package dev.doppel.connectivity.registry;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down password guessing per device login ({@code tenant/auth-id}): after five failures in a
 * row, each further attempt is refused without checking the password for a time that doubles with
 * every failure (1 s, 2 s, 4 s ... up to 5 minutes). A success clears the record. Kept per instance,
 * which bounds guessing per connectivity replica.
 */
@ApplicationScoped
public class LoginThrottle {

    static final int FREE_ATTEMPTS = 5;
    static final Duration MAX_BLOCK = Duration.ofMinutes(5);

    private record State(int failures, Instant blockedUntil, Instant last) {
    }

    private final Map<String, State> states = new ConcurrentHashMap<>();
    private final Clock clock = Clock.systemUTC();

    public boolean isBlocked(String login) {
        State s = states.get(login);
        return s != null && s.blockedUntil() != null && clock.instant().isBefore(s.blockedUntil());
    }

    public void failed(String login) {
        Instant now = clock.instant();
        states.compute(login, (k, s) -> {
            int failures = s == null ? 1 : s.failures() + 1;
            Instant blockedUntil = null;
            if (failures >= FREE_ATTEMPTS) {
                long seconds = 1L << Math.min(20, failures - FREE_ATTEMPTS);
                blockedUntil = now.plus(Duration.ofSeconds(seconds).compareTo(MAX_BLOCK) > 0 ? MAX_BLOCK
                        : Duration.ofSeconds(seconds));
            }
            return new State(failures, blockedUntil, now);
        });
    }

    public void succeeded(String login) {
        states.remove(login);
    }

    @Scheduled(every = "5m")
    void forgetOld() {
        Instant cutoff = clock.instant().minus(Duration.ofHours(1));
        states.values().removeIf(s -> s.last().isBefore(cutoff));
    }
}

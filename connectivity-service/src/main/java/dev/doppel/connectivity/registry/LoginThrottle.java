package dev.doppel.connectivity.registry;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows down password guessing per device login ({@code tenant/auth-id}) and source address: after
 * five failures in a row, each further attempt is refused without checking the password for a time
 * that doubles with every failure (1 s, 2 s, 4 s ... up to 5 minutes). A success clears the record.
 *
 * <ul>
 * <li>Keyed by login <em>and</em> source address, so someone guessing from elsewhere is slowed down
 * without locking the device out from its own address.</li>
 * <li>An attempt is reserved ({@link #begin}) before its password is checked, so parallel guesses
 * share the free attempts instead of all passing an unfinished check; once they are used up, one
 * attempt at a time.</li>
 * <li>At most {@value #MAX_TRACKED} records, least recently used dropped first, and none older than
 * an hour: a flood of made-up logins cannot grow it without bound.</li>
 * </ul>
 * Kept per instance; {@link SharedLoginFailures} makes its blocks hold on every replica.
 */
@ApplicationScoped
public class LoginThrottle {

    static final int FREE_ATTEMPTS = 5;
    static final Duration MAX_BLOCK = Duration.ofMinutes(5);
    static final int MAX_TRACKED = 20_000;
    static final Duration FORGET_AFTER = Duration.ofHours(1);

    private static final class State {
        int failures;
        int pending;
        Instant blockedUntil;
        Instant last;
    }

    private final Clock clock;
    private final int maxTracked;
    /** Guarded by this. */
    private final Map<String, State> states;

    public LoginThrottle() {
        this(Clock.systemUTC(), MAX_TRACKED);
    }

    LoginThrottle(Clock clock, int maxTracked) {
        this.clock = clock;
        this.maxTracked = maxTracked;
        this.states = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, State> eldest) {
                return size() > LoginThrottle.this.maxTracked;
            }
        };
    }

    /** The record an attempt counts against: the login from one source address. */
    public static String key(String login, String source) {
        return login + " from " + (source == null ? "?" : source);
    }

    /**
     * Reserves an attempt. False when the key is blocked, or when as many attempts are being checked
     * as it has free ones left (after the free ones, one at a time). Each reservation ends with
     * {@link #failed}, {@link #succeeded} or {@link #abandoned}.
     */
    public synchronized boolean begin(String key) {
        Instant now = clock.instant();
        State s = states.computeIfAbsent(key, k -> new State());
        s.last = now;
        if (s.blockedUntil != null && now.isBefore(s.blockedUntil)
                || s.pending > 0 && s.failures + s.pending >= FREE_ATTEMPTS) {
            return false;
        }
        s.pending++;
        return true;
    }

    /** The reserved attempt gave a wrong password. */
    public synchronized void failed(String key) {
        Instant now = clock.instant();
        State s = states.computeIfAbsent(key, k -> new State());
        s.pending = Math.max(0, s.pending - 1);
        s.failures++;
        s.last = now;
        Instant until = blockedUntil(s.failures, now);
        if (until != null) {
            s.blockedUntil = until;
        }
    }

    /**
     * Until when a login with {@code failures} failures in a row is blocked, counted from the last
     * of them at {@code now}; null while it has free attempts left.
     */
    static Instant blockedUntil(int failures, Instant now) {
        if (failures < FREE_ATTEMPTS) {
            return null;
        }
        Duration block = Duration.ofSeconds(1L << Math.min(20, failures - FREE_ATTEMPTS));
        return now.plus(block.compareTo(MAX_BLOCK) > 0 ? MAX_BLOCK : block);
    }

    /** The reserved attempt gave the right password: the record is cleared. */
    public synchronized void succeeded(String key) {
        states.remove(key);
    }

    /** The reserved attempt said nothing about the password (a disabled device, the registry unreachable). */
    public synchronized void abandoned(String key) {
        State s = states.get(key);
        if (s != null) {
            s.pending = Math.max(0, s.pending - 1);
        }
    }

    synchronized int tracked() {
        return states.size();
    }

    @Scheduled(every = "5m")
    synchronized void forgetOld() {
        Instant cutoff = clock.instant().minus(FORGET_AFTER);
        states.values().removeIf(s -> s.pending == 0 && s.last.isBefore(cutoff));
    }
}

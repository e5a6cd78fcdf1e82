package dev.doppel.connectivity.limits;

import dev.doppel.support.memory.BoundedEntries;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * How often one device's refused messages are written to the log: the first refusal of an interval
 * ({@code doppel.limits.refusal-log-interval}) is logged, the rest of it only
 * counted (every refusal is counted in the adapters' metrics anyway), and the next line says how many
 * were left out. A device sending nothing but refused messages cannot fill the log: before, each of
 * them was a line (about 7,000 in one run of Mqtt5ClientFuzzIT).
 */
@ApplicationScoped
public class RefusalLog {

    private static final class Interval {
        final long startedAt;
        final AtomicInteger unlogged = new AtomicInteger();

        Interval(long startedAt) {
            this.startedAt = startedAt;
        }
    }

    private final long intervalNanos;
    private final Map<String, Interval> devices = new ConcurrentHashMap<>();

    public RefusalLog(@ConfigProperty(name = "doppel.limits.refusal-log-interval") Duration interval) {
        this.intervalNanos = interval.toNanos();
    }

    /**
     * Whether a refusal of {@code device}'s now is to be logged: null if not (one of its refusals was
     * logged within the interval, and this one is counted instead); otherwise what to add to the line,
     * empty, or how many refusals were not logged since the last line.
     */
    public String note(String device) {
        long now = System.nanoTime();
        Interval current = devices.get(device);
        if (current != null && now - current.startedAt < intervalNanos) {
            current.unlogged.incrementAndGet();
            return null;
        }
        BoundedEntries.makeRoom(devices, i -> now - i.startedAt >= intervalNanos);
        Interval next = new Interval(now);
        Interval before = current == null ? devices.putIfAbsent(device, next)
                : devices.replace(device, current, next) ? null : devices.get(device);
        if (before != null && before != current) {
            before.unlogged.incrementAndGet(); // another thread began the interval just now
            return null;
        }
        int left = current == null ? 0 : current.unlogged.get();
        return left == 0 ? "" : " (and " + left + " more of its refusals not logged since the last line)";
    }
}

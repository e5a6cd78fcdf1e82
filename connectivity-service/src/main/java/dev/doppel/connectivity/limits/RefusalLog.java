package dev.doppel.connectivity.limits;

import dev.doppel.support.memory.BoundedEntries;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * How often one device's refused messages (or one source address's refused connections) are written
 * to the log: the first refusal of an interval ({@code doppel.limits.refusal-log-interval}) is
 * logged, the rest of it only counted (every refusal is counted in the adapters' metrics anyway), and
 * the next line says how many were left out. A device sending nothing but refused messages cannot
 * fill the log: before, each of them was a line (about 7,000 in one run of Mqtt5ClientFuzzIT).
 */
@ApplicationScoped
public class RefusalLog {

    /** An interval of one device: when it began, and how many refusals in it were not logged. */
    private record Interval(long startedAt, int unlogged) {
    }

    private final long intervalNanos;
    private final Map<String, Interval> devices = new ConcurrentHashMap<>();

    public RefusalLog(@ConfigProperty(name = "doppel.limits.refusal-log-interval") Duration interval) {
        this.intervalNanos = interval.toNanos();
    }

    /**
     * Logs a refusal of {@code device}'s at INFO ({@code format} and {@code args} as for
     * {@link Logger#infof(String, Object...)}), unless one of its refusals was logged within the
     * interval: then it is only counted, and the next line logged says how many were left out.
     */
    public void log(Logger log, String device, String format, Object... args) {
        long now = System.nanoTime();
        BoundedEntries.makeRoom(devices, i -> now - i.startedAt() >= intervalNanos);
        int[] left = {-1};
        devices.compute(device, (d, current) -> {
            if (current != null && now - current.startedAt() < intervalNanos) {
                return new Interval(current.startedAt(), current.unlogged() + 1);
            }
            left[0] = current == null ? 0 : current.unlogged();
            return new Interval(now, 0);
        });
        if (left[0] >= 0) {
            log.infof(format + (left[0] == 0 ? "" : " (and " + left[0] + " more of its refusals not logged since the last line)"),
                    args);
        }
    }
}

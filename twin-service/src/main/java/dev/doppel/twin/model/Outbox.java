package dev.doppel.twin.model;

import dev.doppel.contracts.TwinChanged;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What one twin write still owes the rest of the system: the change to publish and, for each changed
 * path, the time its value became true (for the history). It is stored in the twin document by the
 * same write that changes the twin, so a crash after the write cannot lose it: the next writer of the
 * twin finds it and finishes the delivery.
 *
 * @param change         the change event, with the id it is published under (also its history's key)
 * @param times          the time of each path in {@code change.changes()}
 * @param deltaUnchanged the write left the twin's delta as it was (published as
 *                       {@link TwinChanged#DELTA_HEADER}); false when not known, as for an outbox
 *                       read back from the store
 * @param superseded     values the write set and replaced again before its end: reports of one twin
 *                       that arrive together are merged into one write, whose change carries each
 *                       path's last value, but every reported value belongs in the history. Not
 *                       stored with the twin (a burst of one device's reports would swell its
 *                       document): an outbox finished after a crash appends its change's values only
 */
public record Outbox(TwinChanged change, Map<String, Instant> times, boolean deltaUnchanged,
        List<Superseded> superseded) {

    /** A value a write set at {@code revision} and replaced before it ended; it became true at {@code time}. */
    public record Superseded(String path, Object value, long revision, Instant time) {
    }

    public Outbox(TwinChanged change, Map<String, Instant> times, boolean deltaUnchanged) {
        this(change, times, deltaUnchanged, List.of());
    }

    public String id() {
        return change.eventId();
    }

    public long revision() {
        return change.revision();
    }
}

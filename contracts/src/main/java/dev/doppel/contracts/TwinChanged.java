package dev.doppel.contracts;

import java.time.Instant;
import java.util.Map;

/**
 * A twin was created or modified.
 *
 * @param changes   the changed leaves, by slash path ({@code features/telemetry/properties/temperature}) to new value
 * @param cause     what made the change: the id of the event or request
 * @param delta     desired values the device has not reported yet, by feature (empty when it has caught up)
 */
public record TwinChanged(
        String eventId,
        String thingId,
        long revision,
        long previousRevision,
        Map<String, Object> changes,
        Instant modified,
        String cause,
        Map<String, Object> delta) implements DoppelEvent {

    /**
     * Kafka header of a change record on {@code dt.twin-changes}: {@value #DELTA_UNCHANGED} when the
     * change left the twin's {@code delta} as it was (a report on a twin with no desired state, say),
     * so a consumer that follows only the delta can pass the record over without reading it. Without
     * the header, the delta may have changed.
     */
    public static final String DELTA_HEADER = "dt-delta";
    public static final String DELTA_UNCHANGED = "unchanged";

    @Override
    public String type() {
        return EventTypes.TWIN_CHANGED;
    }
}

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

    @Override
    public String type() {
        return EventTypes.TWIN_CHANGED;
    }
}

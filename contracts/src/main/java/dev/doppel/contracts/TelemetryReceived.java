package dev.doppel.contracts;

import java.time.Instant;
import java.util.Map;

/**
 * A device reported values. {@code features} maps a feature id to the reported properties of that
 * feature (top-level members are the properties that carry their own source timestamp);
 * {@code attributes} is only set when the device sent a Ditto-style partial twin.
 *
 * @param channel    {@code telemetry} or {@code event} (Hono's two channels)
 * @param sourceTime when the values were measured (device-supplied) or received; older values never overwrite newer ones
 * @param transport  where it came from, e.g. {@code mqtt}, {@code http}
 */
public record TelemetryReceived(
        String eventId,
        String thingId,
        String channel,
        Map<String, Map<String, Object>> features,
        Map<String, Object> attributes,
        Instant sourceTime,
        String transport) implements DoppelEvent {

    public static final String TELEMETRY = "telemetry";
    public static final String EVENT = "event";

    public static TelemetryReceived of(String eventId, ThingId thingId, String channel,
            Map<String, Map<String, Object>> features, Map<String, Object> attributes, Instant sourceTime,
            String transport) {
        return new TelemetryReceived(eventId, thingId.toString(), channel, features,
                attributes == null ? Map.of() : attributes, sourceTime, transport);
    }

    @Override
    public String type() {
        return EVENT.equals(channel) ? EventTypes.DEVICE_EVENT_RECEIVED : EventTypes.TELEMETRY_RECEIVED;
    }
}

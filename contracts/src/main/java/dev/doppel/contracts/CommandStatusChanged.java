package dev.doppel.contracts;

import java.time.Instant;

/**
 * A step in a command's life, reported by the service that saw it.
 *
 * @param statusCode  the device's status for {@code SUCCEEDED}/{@code FAILED} (HTTP semantics), else null
 * @param reason      a stable machine-readable reason for failures, e.g. {@link #DEVICE_NOT_CONNECTED}
 * @param payload     the device's answer, raw bytes (base64 in JSON), may be null
 */
public record CommandStatusChanged(
        String eventId,
        String commandId,
        String thingId,
        CommandStatus status,
        Integer statusCode,
        String reason,
        String contentType,
        byte[] payload,
        Instant at,
        String source) implements DoppelEvent {

    public static final String DEVICE_NOT_CONNECTED = "device-not-connected";

    /**
     * The reason of a {@code SENT} that another system took over for good (Hono's command API, a fleet's
     * own broker): no {@code DELIVERED} will follow, so nothing should wait for one.
     */
    public static final String HANDED_OFF = "handed-off";

    @Override
    public String type() {
        return EventTypes.COMMAND_STATUS_CHANGED;
    }
}

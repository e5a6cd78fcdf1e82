package dev.doppel.contracts;

import java.time.Instant;

/**
 * An application asked for a command to be delivered to a device.
 *
 * @param commandId        also the request id the device sees ({@code command///req/{commandId}/{subject}})
 * @param payload          raw bytes (base64 in JSON)
 * @param responseRequired whether the device is expected to answer
 * @param deadline         after this instant the answer is no longer awaited
 * @param expiresAt        until when the command may wait for an offline device; null: deliver now or
 *                         fail with {@link CommandStatusChanged#DEVICE_NOT_CONNECTED}. A queued command is
 *                         published again when its device connects, with the same id, so a device
 *                         (and the adapter) can recognise a repeat.
 */
public record CommandRequested(
        String commandId,
        String thingId,
        String subject,
        String contentType,
        byte[] payload,
        boolean responseRequired,
        Instant requestedAt,
        Instant deadline,
        Instant expiresAt) implements DoppelEvent {

    /** Whether the command may wait for its device, and has not waited too long yet. */
    public boolean mayWait(Instant now) {
        return expiresAt != null && now.isBefore(expiresAt);
    }

    @Override
    public String eventId() {
        return commandId;
    }

    @Override
    public String type() {
        return EventTypes.COMMAND_REQUESTED;
    }
}

package dev.doppel.contracts;

import java.time.Instant;

/**
 * An application asked for a command to be delivered to a device.
 *
 * @param commandId        also the request id the device sees ({@code command///req/{commandId}/{subject}})
 * @param payload          raw bytes (base64 in JSON)
 * @param responseRequired whether the device is expected to answer
 * @param deadline         after this instant the answer is no longer awaited
 */
public record CommandRequested(
        String commandId,
        String thingId,
        String subject,
        String contentType,
        byte[] payload,
        boolean responseRequired,
        Instant requestedAt,
        Instant deadline) implements DoppelEvent {

    @Override
    public String eventId() {
        return commandId;
    }

    @Override
    public String type() {
        return EventTypes.COMMAND_REQUESTED;
    }
}

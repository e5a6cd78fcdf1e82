package dev.doppel.command.model;

import dev.doppel.contracts.CommandStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A command for a device and everything that happened to it.
 *
 * @param ttl       how long the command may wait for its device to connect; zero: now or never
 * @param expiresAt when that wait ends (null for now-or-never commands)
 * @param deadline  when the answer is no longer awaited at the latest
 * @param response  the device's answer, once there is one
 */
public record Command(
        String id,
        String thingId,
        String subject,
        String contentType,
        byte[] payload,
        boolean responseRequired,
        Duration timeout,
        Duration ttl,
        Instant expiresAt,
        Instant createdAt,
        Instant deadline,
        CommandStatus status,
        List<StatusEntry> history,
        Response response) {

    public record StatusEntry(CommandStatus status, Instant at, String reason) {
    }

    public record Response(int statusCode, String contentType, byte[] payload) {
    }
}

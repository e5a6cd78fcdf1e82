package dev.doppel.command.graphql;

import dev.doppel.command.model.Command;
import dev.doppel.contracts.CommandStatus;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

@Name("Command")
@Description("A command for a device and everything that happened to it")
public record CommandNode(
        @NonNull String id,
        @NonNull String thingId,
        @NonNull String subject,
        @NonNull CommandStatus status,
        String contentType,
        @Description("how long the answer is awaited after delivery, in ms") long timeoutMs,
        @Description("how long the command may wait for an offline device, in ms; 0: now or never") long ttlMs,
        Instant expiresAt,
        @NonNull Instant createdAt,
        @NonNull List<@NonNull Step> history,
        Answer response) {

    @Name("CommandStep")
    public record Step(@NonNull CommandStatus status, @NonNull Instant at, String reason) {
    }

    @Name("CommandAnswer")
    @Description("The device's answer: payload as text for text and JSON types, else base64")
    public record Answer(int status, String contentType, String payload) {
    }

    static CommandNode of(Command c) {
        Answer answer = c.response() == null ? null : new Answer(c.response().statusCode(), c.response().contentType(),
                text(c.response().contentType(), c.response().payload()));
        return new CommandNode(c.id(), c.thingId(), c.subject(), c.status(), c.contentType(), c.timeout().toMillis(),
                c.ttl().toMillis(), c.expiresAt(), c.createdAt(),
                c.history().stream().map(h -> new Step(h.status(), h.at(), h.reason())).toList(), answer);
    }

    static String text(String contentType, byte[] payload) {
        if (payload == null) {
            return null;
        }
        boolean text = contentType != null && (contentType.startsWith("text/") || contentType.contains("json"));
        return text ? new String(payload, StandardCharsets.UTF_8) : Base64.getEncoder().encodeToString(payload);
    }
}

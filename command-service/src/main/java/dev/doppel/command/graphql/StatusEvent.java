package dev.doppel.command.graphql;

import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import java.time.Instant;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

@Name("CommandStatusChange")
public record StatusEvent(@NonNull String commandId, @NonNull String thingId, @NonNull CommandStatus status,
        Integer statusCode, String reason, String payload, Instant at, String source) {

    static StatusEvent of(CommandStatusChanged s) {
        return new StatusEvent(s.commandId(), s.thingId(), s.status(), s.statusCode(), s.reason(),
                CommandNode.text(s.contentType(), s.payload()), s.at(), s.source());
    }
}

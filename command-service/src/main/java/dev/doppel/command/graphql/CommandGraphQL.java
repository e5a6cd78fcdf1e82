package dev.doppel.command.graphql;

import dev.doppel.command.config.CommandConfig;
import dev.doppel.command.messaging.StatusStream;
import dev.doppel.command.rest.CommandRequests;
import dev.doppel.support.rest.Timeouts;
import dev.doppel.command.service.CommandService;
import dev.doppel.command.service.KnownThings;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import io.smallrye.graphql.api.Subscription;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.eclipse.microprofile.graphql.DefaultValue;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.GraphQLApi;
import org.eclipse.microprofile.graphql.Mutation;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;
import org.eclipse.microprofile.graphql.Query;

/**
 * command-service's part of the graph, on the same service as the REST API: the same validation,
 * tenant scoping (another tenant's command reads as null) and errors ({@code extensions.problem}).
 */
@GraphQLApi
public class CommandGraphQL {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(CommandGraphQL.class);

    private final CommandService commands;
    private final KnownThings known;
    private final StatusStream live;
    private final CommandConfig config;
    private final Caller caller;

    public CommandGraphQL(CommandService commands, KnownThings known, StatusStream live, CommandConfig config,
            Caller caller) {
        this.commands = commands;
        this.known = known;
        this.live = live;
        this.config = config;
        this.caller = caller;
    }

    @Mutation("sendCommand")
    @Description("Sends a command without waiting for the answer (dt-operator or dt-admin); follow it with command(id) or commandStatusChanged. The payload is json or text.")
    public Uni<CommandNode> sendCommand(@NonNull @Name("thingId") String thingId, @NonNull @Name("subject") String subject,
            @Name("json") JsonObject json, @Name("text") String text,
            @Description("how long the answer is awaited, e.g. 10s") @Name("timeout") String timeout,
            @Description("how long it may wait for an offline device, e.g. 1h; 0: now or never") @Name("ttl") String ttl,
            @DefaultValue("true") @Name("responseRequired") boolean responseRequired) {
        return guarded(() -> {
            caller.require("sending commands", Roles.STEER);
            ThingId id = CommandRequests.thing(thingId, caller);
            CommandRequests.subject(subject);
            if (json != null && text != null) {
                throw new ProblemException(Problem.of("invalid-command", "Invalid command", 400,
                        "give json or text, not both", null));
            }
            byte[] payload = json != null ? json.toString().getBytes(StandardCharsets.UTF_8)
                    : text != null ? text.getBytes(StandardCharsets.UTF_8) : new byte[0];
            CommandRequests.size(payload, config.maxPayloadBytes());
            Duration wait = Timeouts.parse(timeout, config.defaultTimeout(), config.maxTimeout());
            if (wait.isZero()) {
                throw new ProblemException(Problem.of("invalid-timeout", "Invalid timeout", 400,
                        "a command needs a timeout above zero: how long its answer is awaited", null));
            }
            Duration queue = Timeouts.parse("ttl", ttl, config.defaultTtl(), config.maxTtl());
            return known.require(id).chain(() -> commands.submit(new CommandService.Request(id.toString(), subject,
                    json != null ? "application/json" : "text/plain", payload, wait, queue, responseRequired)))
                    .map(CommandNode::of);
        });
    }

    @Query("command")
    @Description("One command; null if it does not exist or belongs to another tenant")
    public Uni<CommandNode> command(@NonNull @Name("id") String id) {
        return guarded(() -> commands.find(id).map(c -> c
                .filter(x -> caller.mayAccess(ThingId.parse(x.thingId()).tenant()))
                .map(CommandNode::of).orElse(null)));
    }

    @Query("commands")
    @Description("Commands, newest first, of the caller's tenants; page with since")
    public Uni<List<CommandNode>> commands(@Name("thingId") String thingId, @Name("status") CommandStatus status,
            @Description("ISO-8601: only commands created after it") @Name("since") String since,
            @DefaultValue("50") @Name("limit") int limit) {
        return guarded(() -> {
            if (thingId != null) {
                CommandRequests.thing(thingId, caller);
            }
            if (limit < 1 || limit > 200) {
                throw new ProblemException(Problem.of("invalid-limit", "Invalid limit", 400, "limit is 1 to 200", null));
            }
            Instant after;
            try {
                after = since == null ? null : Instant.parse(since);
            } catch (DateTimeParseException e) {
                throw new ProblemException(Problem.of("invalid-time", "Invalid time", 400,
                        "since takes an ISO-8601 time", null));
            }
            return commands.list(caller.isAdmin() ? null : caller.tenants(), thingId, status, after, limit)
                    .map(found -> found.stream().map(CommandNode::of).toList());
        });
    }

    @Subscription("commandStatusChanged")
    @Description("Each step of the commands of one thing (or of every thing the caller may read), as it happens")
    public Multi<StatusEvent> commandStatusChanged(@Name("thingId") String thingId) {
        Set<String> tenants;
        try {
            requireRead();
            if (thingId != null) {
                CommandRequests.thing(thingId, caller);
            }
            tenants = caller.isAdmin() ? null : caller.tenants(); // fixed now: the stream outlives the request
        } catch (ProblemException e) {
            return Multi.createFrom().failure(e);
        }
        return caller.untilTokenExpires(live.stream())
                .filter(s -> s.thingId() != null && ThingId.isValid(s.thingId()))
                .filter(s -> thingId == null || thingId.equals(s.thingId()))
                .filter(s -> tenants == null || tenants.contains(ThingId.parse(s.thingId()).tenant()))
                .map(StatusEvent::of);
    }

    /**
     * Problems reach the client with their message; anything else is logged here and reads "System error".
     * Every operation reads commands, so this is where the read role is checked.
     */
    private <T> Uni<T> guarded(Supplier<Uni<? extends T>> operation) {
        return Uni.createFrom().<T>deferred(() -> {
            requireRead();
            return operation.get();
        }).onFailure(t -> !(t instanceof ProblemException)).invoke(t -> LOG.error("GraphQL operation failed", t));
    }

    private void requireRead() {
        caller.require("reading commands", Roles.READ);
    }
}

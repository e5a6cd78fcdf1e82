package dev.doppel.command.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.config.CommandConfig;
import dev.doppel.command.mapping.CommandApiMapper;
import dev.doppel.command.service.CommandService;
import dev.doppel.command.service.KnownThings;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.rest.Timeouts;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** Commands as resources: send without waiting, read their status and history, list them. */
@Path("/api/commands")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.ADMIN})
public class CommandsResource {

    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final CommandService commands;
    private final KnownThings known;
    private final CommandConfig config;
    private final Caller caller;
    private final ObjectMapper json;

    public CommandsResource(CommandService commands, KnownThings known, CommandConfig config, Caller caller,
            ObjectMapper json) {
        this.commands = commands;
        this.known = known;
        this.config = config;
        this.caller = caller;
        this.json = json;
    }

    /** {@code payload} is any JSON value; a string is sent as text unless {@code contentType} says JSON. */
    public record SendCommand(String thingId, String subject, JsonNode payload, String contentType, String timeout,
            String ttl, Boolean responseRequired) {
    }

    @POST
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Send a command without waiting", description = "202 with Location; an Idempotency-Key makes repeats return the first command.")
    public Uni<Response> send(SendCommand body, @HeaderParam(IDEMPOTENCY_KEY) String idempotencyKey) {
        if (body == null || body.thingId() == null || body.subject() == null) {
            throw new ProblemException(Problem.of("invalid-command", "Invalid command", 400,
                    "expected {\"thingId\":\"tenant:device\",\"subject\":\"name\",\"payload\":...,\"timeout\":\"10s\"}",
                    null));
        }
        ThingId id = CommandRequests.thing(body.thingId(), caller);
        CommandRequests.subject(body.subject());
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 200)) {
            throw new ProblemException(Problem.of("invalid-idempotency-key", "Invalid Idempotency-Key", 400,
                    "an Idempotency-Key is 1 to 200 characters", null));
        }
        Duration timeout = Timeouts.parse(body.timeout(), config.defaultTimeout(), config.maxTimeout());
        if (timeout.isZero()) {
            throw new ProblemException(Problem.of("invalid-timeout", "Invalid timeout", 400,
                    "an asynchronous command needs a timeout above zero: how long its answer is awaited", null));
        }
        Duration ttl = Timeouts.parse("ttl", body.ttl(), config.defaultTtl(), config.maxTtl());
        String contentType = body.contentType() != null ? body.contentType()
                : body.payload() != null && body.payload().isTextual() ? "text/plain" : MediaType.APPLICATION_JSON;
        byte[] payload = payload(body.payload(), contentType);
        CommandRequests.size(payload, config.maxPayloadBytes());
        // Keys are per caller: two users' "retry-1" are different requests.
        String key = idempotencyKey == null ? null : caller.name() + "|" + idempotencyKey;
        boolean responseRequired = body.responseRequired() == null || body.responseRequired();
        return known.require(id).chain(() -> commands.submitOnce(new CommandService.Request(id.toString(),
                body.subject(), contentType, payload, timeout, ttl, responseRequired), key)).map(s -> {
            Response.ResponseBuilder r = Response.accepted(Map.of("id", s.command().id(),
                    "status", s.command().status().name()))
                    .location(URI.create("/api/commands/" + s.command().id()))
                    .header(InboxResource.COMMAND_ID_HEADER, s.command().id());
            if (!s.created()) {
                r.header("Idempotent-Replayed", "true");
            }
            return r.build();
        });
    }

    @GET
    @Operation(summary = "List commands", description = "Newest first, only the caller's tenants; page with since=.")
    public Uni<Map<String, Object>> list(@QueryParam("thingId") String thingId, @QueryParam("status") String status,
            @QueryParam("since") String since, @QueryParam("limit") Integer limit) {
        if (thingId != null) {
            CommandRequests.thing(thingId, caller);
        }
        CommandStatus wanted = null;
        if (status != null) {
            try {
                wanted = CommandStatus.valueOf(status);
            } catch (IllegalArgumentException e) {
                throw new ProblemException(Problem.of("invalid-status", "Invalid status", 400,
                        "status is one of " + List.of(CommandStatus.values()), null));
            }
        }
        Instant after = null;
        if (since != null) {
            try {
                after = Instant.parse(since);
            } catch (DateTimeParseException e) {
                throw new ProblemException(Problem.of("invalid-time", "Invalid time", 400,
                        "since takes an ISO-8601 time", null));
            }
        }
        int max = limit == null ? 50 : limit;
        if (max < 1 || max > 200) {
            throw new ProblemException(Problem.of("invalid-limit", "Invalid limit", 400, "limit is 1 to 200", null));
        }
        return commands.list(caller.isAdmin() ? null : caller.tenants(), thingId, wanted, after, max).map(found -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("items", found.stream().map(CommandApiMapper::toApi).toList());
            return out;
        });
    }

    @GET
    @Path("/{id}")
    public Uni<Map<String, Object>> get(@PathParam("id") String id) {
        return commands.find(id).map(c -> c
                .filter(command -> caller.mayAccess(ThingId.parse(command.thingId()).tenant()))
                .map(CommandApiMapper::toApi).orElseThrow(() -> notFound(id)));
    }

    @DELETE
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    @Path("/{id}")
    @Operation(summary = "Cancel a command", description = "Only while its device has not acknowledged it (QUEUED or SENT); 409 after that.")
    public Uni<Map<String, Object>> cancel(@PathParam("id") String id) {
        return commands.find(id).chain(found -> {
            if (found.isEmpty() || !caller.mayAccess(ThingId.parse(found.get().thingId()).tenant())) {
                throw notFound(id);
            }
            return commands.cancel(id).map(result -> {
                CommandService.Submitted r = result.orElseThrow(() -> notFound(id));
                if (!r.created()) {
                    throw new ProblemException(Problem.of("command-not-cancellable", "Command cannot be cancelled",
                            409, "command " + id + " is " + r.command().status()
                                    + "; only QUEUED or SENT commands can be cancelled",
                            "/api/commands/" + id));
                }
                return CommandApiMapper.toApi(r.command());
            });
        });
    }

    private static ProblemException notFound(String id) {
        return new ProblemException(Problem.of("command-not-found", "Command not found", 404,
                "no command with id " + id, null));
    }

    private byte[] payload(JsonNode payload, String contentType) {
        if (payload == null || payload.isNull()) {
            return new byte[0];
        }
        if (payload.isTextual() && !contentType.contains("json")) {
            return payload.asText().getBytes(StandardCharsets.UTF_8);
        }
        try {
            return json.writeValueAsBytes(payload);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

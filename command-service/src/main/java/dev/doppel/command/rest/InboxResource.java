package dev.doppel.command.rest;

import dev.doppel.command.config.CommandConfig;
import dev.doppel.command.service.CommandService;
import dev.doppel.command.service.KnownThings;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.rest.Timeouts;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * Eclipse Ditto's live messages to a thing: the device's answer is the HTTP response.
 * {@code timeout=0} does not wait and answers 202 with the command id.
 */
@Path("/api/2/things/{thingId}/inbox/messages/{subject}")
@RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
public class InboxResource {

    public static final String COMMAND_ID_HEADER = "Doppel-Command-Id";

    private final CommandService commands;
    private final KnownThings known;
    private final CommandConfig config;
    private final Caller caller;

    public InboxResource(CommandService commands, KnownThings known, CommandConfig config, Caller caller) {
        this.commands = commands;
        this.known = known;
        this.config = config;
        this.caller = caller;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Send a message (command) to a device and wait for its answer")
    public Uni<Response> send(@PathParam("thingId") String thingId, @PathParam("subject") String subject,
            @QueryParam("timeout") String timeoutParam, @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
            byte[] body) {
        ThingId id = CommandRequests.thing(thingId, caller);
        CommandRequests.subject(subject);
        byte[] payload = body == null ? new byte[0] : body;
        CommandRequests.size(payload, config.maxPayloadBytes());
        Duration timeout = Timeouts.parse(timeoutParam, config.defaultTimeout(), config.maxTimeout());
        String type = contentType == null || contentType.isBlank() ? MediaType.APPLICATION_OCTET_STREAM : contentType;
        return known.require(id).chain(() -> deliver(id, subject, type, payload, timeout));
    }

    private Uni<Response> deliver(ThingId id, String subject, String type, byte[] payload, Duration timeout) {
        if (timeout.isZero()) {
            return commands.submit(new CommandService.Request(id.toString(), subject, type, payload, config.maxTimeout(),
                    Duration.ZERO, false))
                    .map(c -> Response.accepted(Map.of("id", c.id(), "status", c.status().name()))
                            .location(URI.create("/api/commands/" + c.id()))
                            .header(COMMAND_ID_HEADER, c.id()).type(MediaType.APPLICATION_JSON).build());
        }
        return commands.sendAndAwait(new CommandService.Request(id.toString(), subject, type, payload, timeout,
                Duration.ZERO, true)).map(outcome -> {
            String commandId = outcome.command().id();
            if (outcome.timedOut()) {
                return problem(commandId, Problem.of("command-timed-out", "Command timed out", 408,
                        "device " + id + " did not answer within " + timeout.toMillis() + " ms", null));
            }
            CommandStatusChanged answer = outcome.finalStatus();
            if (CommandStatusChanged.DEVICE_NOT_CONNECTED.equals(answer.reason())) {
                return problem(commandId, Problem.of("device-not-connected", "Device not connected", 404,
                        "device " + id + " is not connected and cannot take commands now", null));
            }
            int status = answer.statusCode() == null ? 500 : answer.statusCode();
            if (!passesOn(status)) {
                return problem(commandId, Problem.of("invalid-device-answer", "Invalid device answer", 502,
                        "device " + id + " answered with status " + status + ", which this API does not pass on"
                                + " (2xx, 4xx and 5xx do, except 401 and 407)", null));
            }
            Response.ResponseBuilder r = Response.status(status).header(COMMAND_ID_HEADER, commandId)
                    // The body is the device's: never sniffed or run as a page by a browser that opens it.
                    .header("X-Content-Type-Options", "nosniff")
                    .header("Content-Security-Policy", "sandbox; default-src 'none'");
            byte[] reply = answer.payload();
            if (reply != null && reply.length > 0 && status != 204) {
                r.entity(reply).type(mediaType(answer.contentType()));
            }
            return r.build();
        });
    }

    /**
     * Whether a device's answer status becomes this response's: success, client and server errors
     * do; informational and redirect statuses, numbers outside HTTP's, and the authentication
     * challenges (which would tell the caller that their own credentials failed) do not.
     */
    static boolean passesOn(int status) {
        return (status >= 200 && status <= 299 || status >= 400 && status <= 599) && status != 401 && status != 407;
    }

    /** The device's content type if it is one (one type/subtype, parameters, no line breaks); else octet-stream. */
    static MediaType mediaType(String contentType) {
        if (contentType == null || contentType.length() > 200 || contentType.chars().anyMatch(c -> c < 0x20 || c > 0x7e)) {
            return MediaType.APPLICATION_OCTET_STREAM_TYPE;
        }
        try {
            return MediaType.valueOf(contentType);
        } catch (IllegalArgumentException e) {
            return MediaType.APPLICATION_OCTET_STREAM_TYPE;
        }
    }

    private static Response problem(String commandId, Problem p) {
        return Response.status(p.status()).type(Problem.MEDIA_TYPE).header(COMMAND_ID_HEADER, commandId)
                .entity(new Problem(p.type(), p.title(), p.status(), p.detail(), "/api/commands/" + commandId))
                .build();
    }
}

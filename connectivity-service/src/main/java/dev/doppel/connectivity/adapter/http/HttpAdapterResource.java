package dev.doppel.connectivity.adapter.http;

import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.CommandWait;
import dev.doppel.connectivity.limits.DeviceLimits;
import dev.doppel.connectivity.limits.TwinRooms;
import dev.doppel.connectivity.config.HttpAdapterConfig;
import dev.doppel.connectivity.mapping.DefaultPayloadMapper;
import dev.doppel.connectivity.mapping.MappingException;
import dev.doppel.connectivity.mapping.MappingPool;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.DeviceLogin;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;
import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * Eclipse Hono's HTTP adapter for devices: {@code POST /telemetry} and {@code POST /event} with HTTP
 * Basic authentication ({@code auth-id@tenant}), answered 202 only once Kafka has the event. With
 * {@code hono-ttd: N} the request waits up to N seconds for a command, which then comes back as the
 * response (200, {@code hono-command}, {@code hono-cmd-req-id}); handing it out is its pick-up,
 * {@code DELIVERED}. The device answers with {@code POST /command/res/{req-id}} and header
 * {@code hono-cmd-status}.
 */
@Path("/")
@PermitAll
public class HttpAdapterResource {

    static final String TRANSPORT = "http";

    private final DeviceLogin login;
    private final PayloadMappings mappings;
    private final DeviceRegistry registry;
    private final DeviceLimits limits;
    private final TwinRooms rooms;
    private final DownstreamSender downstream;
    private final CommandRouter router;
    private final CommandWait commands;
    private final MeterRegistry metrics;

    /** The request being served (a proxy): whom a login comes from. */
    private final HttpServerRequest request;
    private final HttpAdapterConfig config;

    public HttpAdapterResource(DeviceLogin login, PayloadMappings mappings, DeviceRegistry registry,
            DeviceLimits limits, TwinRooms rooms, DownstreamSender downstream, CommandRouter router, CommandWait commands,
            MeterRegistry metrics, HttpServerRequest request, HttpAdapterConfig config) {
        this.request = request;
        this.config = config;
        this.login = login;
        this.mappings = mappings;
        this.registry = registry;
        this.limits = limits;
        this.rooms = rooms;
        this.downstream = downstream;
        this.router = router;
        this.commands = commands;
        this.metrics = metrics;
    }

    @POST
    @Path("telemetry")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Device: send telemetry (Hono HTTP adapter)", description = "Basic auth auth-id@tenant; hono-ttd (header or query parameter) waits for a command.")
    public Uni<Response> telemetry(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, @HeaderParam("hono-ttd") String ttd,
            @QueryParam("hono-ttd") String ttdQuery, byte[] body, HttpServerResponse response) {
        return report("telemetry", authorization, contentType, either(ttd, ttdQuery), body, response);
    }

    @POST
    @Path("event")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Device: send an event (Hono HTTP adapter)")
    public Uni<Response> event(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, @HeaderParam("hono-ttd") String ttd,
            @QueryParam("hono-ttd") String ttdQuery, byte[] body, HttpServerResponse response) {
        return report("event", authorization, contentType, either(ttd, ttdQuery), body, response);
    }

    @POST
    @Path("command/res/{requestId}")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Device: answer a command (Hono HTTP adapter)", description = "Header or query parameter hono-cmd-status carries the status code.")
    public Uni<Response> commandResponse(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @PathParam("requestId") String requestId, @HeaderParam("hono-cmd-status") String status,
            @QueryParam("hono-cmd-status") String statusQuery,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, byte[] body) {
        int code = parseStatus(either(status, statusQuery));
        return authenticate(authorization).chain(device -> {
            Uni<Void> sent = router.respond(device.toString(), requestId, code, contentType, body == null ? new byte[0]
                    : body, TRANSPORT);
            if (sent == null) {
                count("command-response", "unknown-request-id");
                throw new ProblemException(Problem.of("unknown-request-id", "Unknown command", 404,
                        "no command " + requestId + " awaits an answer from this device", null));
            }
            return sent.invoke(() -> count("command-response", "accepted")).replaceWith(Response.accepted().build());
        });
    }

    @PUT
    @Path("telemetry/{tenant}/{deviceId}")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Gateway: send telemetry for one of its devices (Hono HTTP adapter)",
            description = "The device's registration names the authenticated gateway in its via.")
    public Uni<Response> gatewayTelemetry(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @PathParam("tenant") String tenant, @PathParam("deviceId") String deviceId,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, @HeaderParam("hono-ttd") String ttd,
            @QueryParam("hono-ttd") String ttdQuery, byte[] body, HttpServerResponse response) {
        return report("telemetry", authorization, target(tenant, deviceId), contentType, either(ttd, ttdQuery), body,
                response);
    }

    @PUT
    @Path("event/{tenant}/{deviceId}")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Gateway: send an event for one of its devices (Hono HTTP adapter)")
    public Uni<Response> gatewayEvent(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @PathParam("tenant") String tenant, @PathParam("deviceId") String deviceId,
            @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, @HeaderParam("hono-ttd") String ttd,
            @QueryParam("hono-ttd") String ttdQuery, byte[] body, HttpServerResponse response) {
        return report("event", authorization, target(tenant, deviceId), contentType, either(ttd, ttdQuery), body,
                response);
    }

    private static ThingId target(String tenant, String deviceId) {
        try {
            return ThingId.of(tenant, deviceId);
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.of("invalid-device-id", "Invalid device id", 400, e.getMessage(), null));
        }
    }

    /** The authenticated device, or the device it acts for as its gateway. */
    private Uni<ThingId> actingFor(String authorization, ThingId target) {
        return authenticate(authorization).chain(self -> {
            if (target == null || target.equals(self)) {
                return Uni.createFrom().item(self);
            }
            return registry.isGatewayFor(self, target).map(ok -> {
                if (!ok) {
                    count("auth", "not-a-gateway");
                    throw new ProblemException(Problem.of("not-a-gateway", "Not a gateway of this device", 403,
                            self.deviceId() + " is not a gateway of " + target.deviceId()
                                    + " (its registration has no via naming it)", null));
                }
                return target;
            });
        });
    }

    private Uni<Response> report(String channel, String authorization, String contentType, String ttdHeader,
            byte[] body, HttpServerResponse http) {
        return report(channel, authorization, null, contentType, ttdHeader, body, http);
    }

    private Uni<Response> report(String channel, String authorization, ThingId target, String contentType,
            String ttdHeader, byte[] body, HttpServerResponse http) {
        int ttd = parseTtd(ttdHeader);
        byte[] payload = body == null ? new byte[0] : body;
        if (payload.length > config.maxPayloadBytes()) {
            // Before the login: a body that cannot be taken costs no password check.
            count(channel, "payload-too-large");
            throw new ProblemException(Problem.of("payload-too-large", "Payload too large", 413, "the body has "
                    + payload.length + " bytes; at most " + config.maxPayloadBytes(), null));
        }
        return actingFor(authorization, target).call(device -> limits.forTenant(device.tenant()).invoke(l -> {
            if (!limits.tryMessage(device, l)) {
                count(channel, "rate-limited");
                throw new ProblemException(Problem.of("rate-limited", "Too many messages", 429,
                        "device " + device.deviceId() + " may send " + l.messagesPerSecond() + " messages per second",
                        null));
            }
        })).chain(device -> {
            Uni<Void> sent;
            if (payload.length == 0 && ttd > 0) {
                sent = Uni.createFrom().voidItem(); // an empty request that only asks for commands
            } else {
                sent = mappings.forDevice(device).chain(m -> mappings.map(m, payload, contentType, null, channel))
                        .onFailure(MappingException.class).transform(failure -> {
                            MappingException e = (MappingException) failure;
                            count(channel, e.reason());
                            return new ProblemException(switch (e.reason()) {
                                case DefaultPayloadMapper.UNSUPPORTED_CONTENT_TYPE -> Problem.of(e.reason(),
                                        "Unsupported content type", 415, e.getMessage(), null);
                                case MappingPool.BUSY -> Problem.of(e.reason(), "Mappings busy", 503, e.getMessage(),
                                        null);
                                default -> Problem.of(e.reason(), "Invalid payload", 400, e.getMessage(), null);
                            });
                        }).invoke(mapped -> {
                            String full = rooms.refusal(device, mapped);
                            if (full != null) {
                                count(channel, TwinRooms.TWIN_FULL);
                                throw new ProblemException(Problem.of(TwinRooms.TWIN_FULL, "Twin full", 413, full,
                                        null));
                            }
                        }).chain(mapped -> downstream.report(TelemetryReceived.of(UUID.randomUUID().toString(), device,
                        channel, mapped.features(), mapped.attributes(), Instant.now().truncatedTo(ChronoUnit.MICROS),
                        TRANSPORT))).invoke(() -> count(channel, "accepted"));
            }
            // 202 only once the broker has the event: what the device was told is accepted is never lost.
            // A device already reachable (over MQTT, or by another request that waits) gets its commands
            // there; this request does not take them over.
            return commands.shouldWait(device, ttd) ? sent.chain(() -> awaitCommand(device, ttd, http))
                    : sent.replaceWith(Response.accepted().build());
        });
    }

    /** Holds the request open as the device's command sink for up to {@code ttd} seconds. */
    private Uni<Response> awaitCommand(ThingId device, int ttd, HttpServerResponse http) {
        return commands.await(device, ttd, TRANSPORT).map(command -> {
            if (command == null) {
                return Response.accepted().build();
            }
            // Picked up once the response is written: that is this transport's DELIVERED.
            http.bodyEndHandler(v -> commands.delivered(command, TRANSPORT));
            Response.ResponseBuilder r = Response.ok(command.payload() == null ? new byte[0] : command.payload())
                    .header("hono-command", command.subject());
            if (command.responseRequired()) {
                r.header("hono-cmd-req-id", command.commandId());
            }
            return r.type(command.contentType() == null ? MediaType.APPLICATION_OCTET_STREAM
                    : command.contentType()).build();
        });
    }

    /** HTTP Basic with {@code auth-id@tenant}, against the device registry, with the same throttle as MQTT. */
    private Uni<ThingId> authenticate(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return Uni.createFrom().failure(unauthorized("credentials required: HTTP Basic with auth-id@tenant"));
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(unauthorized("malformed Basic credentials"));
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return Uni.createFrom().failure(unauthorized("the user name is auth-id@tenant"));
        }
        SocketAddress from = request.remoteAddress();
        return login.login(decoded.substring(0, colon), decoded.substring(colon + 1),
                from == null ? null : from.hostAddress()).map(result -> switch (result.outcome()) {
            case OK -> result.device();
            case BAD_USERNAME -> throw unauthorized("the user name is auth-id@tenant");
            case THROTTLED -> {
                count("auth", "throttled");
                throw unauthorized("too many failed attempts; try again later");
            }
            case DEVICE_DISABLED, TENANT_DISABLED -> {
                count("auth", "disabled");
                throw new ProblemException(Problem.of("device-disabled", "Device disabled", 403,
                        "the device or its tenant is disabled", null));
            }
            case BAD_CREDENTIALS -> {
                count("auth", "bad-credentials");
                throw unauthorized("bad credentials");
            }
            case BUSY -> {
                count("auth", "busy");
                throw new ProblemException(Problem.of("busy", "Busy", 503,
                        "too many logins are being checked at once; try again shortly", null), Duration.ofSeconds(1));
            }
            case RATE_LIMITED -> {
                count("auth", "source-rate");
                throw new ProblemException(Problem.of("source-rate", "Too many logins from this address", 429,
                        "more new logins from this address than doppel.limits.per-source allows; try again later",
                        null), Duration.ofSeconds(1));
            }
        });
    }

    private static ProblemException unauthorized(String detail) {
        return new ProblemException(Problem.of("device-unauthorized", "Unauthorized", 401, detail, null));
    }

    /** Hono's HTTP adapter takes hono-ttd and hono-cmd-status as a header or as a query parameter; the header wins. */
    private static String either(String header, String query) {
        return header != null ? header : query;
    }

    private static int parseTtd(String ttd) {
        int n = CommandWait.parseTtd(ttd);
        if (n < 0) {
            throw new ProblemException(Problem.of("invalid-ttd", "Invalid hono-ttd", 400,
                    "hono-ttd is a number of seconds, 0 to " + CommandWait.MAX_TTD_SECONDS, null));
        }
        return n;
    }

    private static int parseStatus(String status) {
        try {
            int code = Integer.parseInt(status == null ? "" : status.trim());
            if (code >= 200 && code < 600) {
                return code;
            }
        } catch (NumberFormatException e) {
            // falls through to the problem
        }
        throw new ProblemException(Problem.of("invalid-command-status", "Invalid hono-cmd-status", 400,
                "hono-cmd-status is an HTTP status code, 200 to 599", null));
    }

    private void count(String channel, String outcome) {
        metrics.counter("doppel.http.messages", "channel", channel, "outcome", outcome).increment();
    }
}

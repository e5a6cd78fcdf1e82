package dev.doppel.connectivity.adapter.coap;

import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.CommandWait;
import dev.doppel.connectivity.config.CoapAdapterConfig;
import dev.doppel.connectivity.mapping.DefaultPayloadMapper;
import dev.doppel.connectivity.mapping.MappedReport;
import dev.doppel.connectivity.mapping.MappingException;
import dev.doppel.connectivity.mapping.MappingPool;
import dev.doppel.connectivity.limits.DeviceLimits;
import dev.doppel.connectivity.limits.TwinRooms;
import dev.doppel.connectivity.limits.SourceRates;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetSocketAddress;
import java.security.Principal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.californium.elements.auth.ExtensiblePrincipal;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.jboss.logging.Logger;

/**
 * Eclipse Hono's CoAP adapter on Eclipse Californium. Devices authenticate in the DTLS handshake
 * with a pre-shared key (identity {@code auth-id@tenant}) and then use {@code /telemetry},
 * {@code /event} (or {@code /t}, {@code /e}) and {@code /command_response/{req-id}} (or {@code /cr}).
 * Where allowed (then the plain port is opened), devices without DTLS use {@code /telemetry/{tenant}/{device}} and
 * {@code /command_response/{tenant}/{device}/{req-id}}. A request is answered 2.04 only once Kafka has
 * its event; with {@code ?hono-ttd=N} it waits for a command, which comes back as a 2.05 response
 * with Hono's {@code location-query} ({@code hono-command=name}) and {@code location-path} (where to
 * answer). Errors are CoAP codes with a one-line text body.
 */
@ApplicationScoped
public class CoapAdapter {

    private static final Logger LOG = Logger.getLogger(CoapAdapter.class);
    static final String TRANSPORT = "coap";

    private final CoapAdapterConfig config;
    private final DeviceRegistry registry;
    private final PayloadMappings mappings;
    private final DeviceLimits limits;
    private final TwinRooms rooms;
    private final DownstreamSender downstream;
    private final CommandRouter router;
    private final CommandWait commands;
    private final MeterRegistry metrics;
    private CoapServer server;
    private Endpoint plain;
    private Endpoint secure;

    private final SourceRates sourceRates;

    public CoapAdapter(CoapAdapterConfig config, DeviceRegistry registry, PayloadMappings mappings, DeviceLimits limits, TwinRooms rooms,
            DownstreamSender downstream, CommandRouter router, CommandWait commands, MeterRegistry metrics,
            SourceRates sourceRates) {
        this.config = config;
        this.sourceRates = sourceRates;
        this.registry = registry;
        this.mappings = mappings;
        this.limits = limits;
        this.rooms = rooms;
        this.downstream = downstream;
        this.router = router;
        this.commands = commands;
        this.metrics = metrics;
    }

    void start(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            return;
        }
        CoapConfig.register();
        UdpConfig.register();
        DtlsConfig.register();
        Configuration cf = Configuration.createStandardWithoutFile()
                .set(CoapConfig.MAX_RESOURCE_BODY_SIZE, config.maxPayloadBytes())
                .set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.SERVER_ONLY)
                // Connection ids keep a device's DTLS session across NAT rebinding (RFC 9146).
                .set(DtlsConfig.DTLS_CONNECTION_ID_LENGTH, 6);
        RegistryPskStore psk = new RegistryPskStore(registry, metrics);
        DtlsConnectorConfig dtls = DtlsConnectorConfig.builder(cf)
                .setAddress(new InetSocketAddress(config.host(), config.dtlsPort()))
                .setAdvancedPskStore(psk)
                .setApplicationLevelInfoSupplier(psk)
                .setDatagramFilter(new HandshakeLimit(cf, sourceRates))
                .build();
        secure = new CoapEndpoint.Builder().setConfiguration(cf).setConnector(new DTLSConnector(dtls)).build();
        server = new CoapServer(cf);
        server.addEndpoint(secure);
        // Plain CoAP only where devices may send without DTLS: an open UDP port that answers anyone
        // (the root and /.well-known/core, errors) is an amplifier and serves no authenticated device.
        if (config.allowUnauthenticated()) {
            plain = new CoapEndpoint.Builder().setConfiguration(cf)
                    .setInetSocketAddress(new InetSocketAddress(config.host(), config.port())).build();
            server.addEndpoint(plain);
        }
        for (String name : List.of("telemetry", "t")) {
            server.add(new Channel(name, "telemetry"));
        }
        for (String name : List.of("event", "e")) {
            server.add(new Channel(name, "event"));
        }
        for (String name : List.of("command_response", "cr")) {
            server.add(new CommandResponse(name));
        }
        server.start();
        if (plain != null) {
            LOG.infof("CoAP adapter on udp %d (coaps, DTLS PSK) and %d (coap, unauthenticated devices)", securePort(),
                    plainPort());
        } else {
            LOG.infof("CoAP adapter on udp %d (coaps, DTLS PSK)", securePort());
        }
    }

    void stop(@Observes ShutdownEvent ev) {
        if (server != null) {
            server.destroy();
        }
    }

    public boolean isListening() {
        return server != null && secure.isStarted() && (plain == null || plain.isStarted());
    }

    public int plainPort() {
        return plain == null ? -1 : plain.getAddress().getPort();
    }

    public int securePort() {
        return secure == null ? -1 : secure.getAddress().getPort();
    }

    /** A CoAP error: its code and a one-line reason, counted under its outcome. */
    static final class Refusal extends RuntimeException {
        final ResponseCode code;
        final String outcome;

        Refusal(ResponseCode code, String outcome, String message) {
            super(message, null, false, false);
            this.code = code;
            this.outcome = outcome;
        }
    }

    /** A resource that also answers every path below it ({@code /telemetry/{tenant}/{device}}). */
    private abstract class DeviceResource extends CoapResource {

        final String metric;

        DeviceResource(String name, String metric) {
            super(name);
            this.metric = metric;
        }

        @Override
        public Resource getChild(String name) {
            return this;
        }

        @Override
        public void handlePOST(CoapExchange exchange) {
            handle(exchange);
        }

        @Override
        public void handlePUT(CoapExchange exchange) {
            handle(exchange);
        }

        private void handle(CoapExchange exchange) {
            Uni<Response> answer;
            try {
                answer = answer(exchange);
            } catch (Refusal r) {
                answer = Uni.createFrom().failure(r);
            }
            answer.subscribe().with(exchange::respond, failure -> {
                if (failure instanceof Refusal r) {
                    count(metric, r.outcome);
                    exchange.respond(r.code, r.getMessage(), MediaTypeRegistry.TEXT_PLAIN);
                } else {
                    LOG.warnf("CoAP %s failed: %s", exchange.getRequestOptions().getUriPathString(),
                            failure.toString());
                    count(metric, "unavailable");
                    exchange.respond(ResponseCode.SERVICE_UNAVAILABLE, "try again later", MediaTypeRegistry.TEXT_PLAIN);
                }
            });
        }

        abstract Uni<Response> answer(CoapExchange exchange);

        /**
         * The device a request speaks for, checked against the registry: the DTLS-authenticated device;
         * or a device it is the gateway of (named in the {@code tenant/device} segments, with the
         * authenticated device in its {@code via}); or, without DTLS, the named device where
         * unauthenticated devices are allowed. {@code named} holds those segments, or is empty.
         */
        Uni<ThingId> device(CoapExchange exchange, List<String> named) {
            Principal peer = exchange.advanced().getRequest().getSourceContext().getPeerIdentity();
            String authenticated = peer instanceof ExtensiblePrincipal<?> p
                    ? p.getExtendedInfo().get(RegistryPskStore.DEVICE, String.class) : null;
            ThingId target = named.isEmpty() ? null : thingId(named.get(0), named.get(1));
            if (authenticated != null) {
                ThingId self = ThingId.parse(authenticated);
                if (target == null || target.equals(self)) {
                    return enabled(self);
                }
                return enabled(self).chain(gateway -> registry.isGatewayFor(gateway, target)).chain(ok -> {
                    if (!ok) {
                        throw new Refusal(ResponseCode.FORBIDDEN, "not-a-gateway", self.deviceId()
                                + " is not a gateway of " + target.deviceId() + " (its registration has no via naming it)");
                    }
                    return enabled(target);
                });
            }
            // Without DTLS: the plain port, only open where unauthenticated devices are allowed.
            if (target == null) {
                throw new Refusal(ResponseCode.UNAUTHORIZED, "unauthenticated",
                        "authenticate with DTLS (PSK identity auth-id@tenant) on the coaps port");
            }
            return enabled(target);
        }

        /** Registered, enabled, in an enabled tenant: otherwise Hono's 4.04 or 4.03. */
        Uni<ThingId> enabled(ThingId device) {
            return registry.status(device).map(status -> switch (status) {
                case ENABLED -> device;
                case TENANT_DISABLED -> throw new Refusal(ResponseCode.FORBIDDEN, "disabled", "the tenant is disabled");
                case UNKNOWN, DISABLED -> throw new Refusal(ResponseCode.NOT_FOUND, "unknown-device",
                        "device " + device.deviceId() + " is unknown or disabled");
            });
        }
    }

    private static ThingId thingId(String tenant, String deviceId) {
        try {
            return ThingId.of(tenant, deviceId);
        } catch (IllegalArgumentException e) {
            throw new Refusal(ResponseCode.BAD_REQUEST, "invalid-path", e.getMessage());
        }
    }

    /** {@code /telemetry} and {@code /event}, with their short forms. */
    private final class Channel extends DeviceResource {

        private final String channel;

        Channel(String name, String channel) {
            super(name, channel);
            this.channel = channel;
        }

        @Override
        Uni<Response> answer(CoapExchange exchange) {
            List<String> path = exchange.getRequestOptions().getUriPath();
            if (path.size() != 1 && path.size() != 3) {
                throw new Refusal(ResponseCode.NOT_FOUND, "invalid-path", "use /" + path.get(0) + " or /"
                        + path.get(0) + "/{tenant}/{device}");
            }
            Uni<ThingId> claimed = device(exchange, path.subList(1, path.size()));
            Query query = Query.of(exchange.getRequestOptions().getUriQuery());
            int ttd = CommandWait.parseTtd(query.get("hono-ttd"));
            if (ttd < 0) {
                throw new Refusal(ResponseCode.BAD_REQUEST, "invalid-ttd",
                        "hono-ttd is a number of seconds, 0 to " + CommandWait.MAX_TTD_SECONDS);
            }
            byte[] payload = exchange.getRequestPayload();
            boolean empty = payload == null || payload.length == 0;
            if (empty && !query.has("empty") && ttd == 0) {
                throw new Refusal(ResponseCode.BAD_REQUEST, "empty-payload",
                        "the payload is empty; mark an empty notification with ?empty");
            }
            if (!empty && payload.length > config.maxPayloadBytes()) {
                throw new Refusal(ResponseCode.REQUEST_ENTITY_TOO_LARGE, "too-large",
                        "payloads are limited to " + config.maxPayloadBytes() + " bytes");
            }
            String feature = query.get("feature");
            return claimed.call(device -> limits.forTenant(device.tenant()).invoke(l -> {
                if (!limits.tryMessage(device, l)) {
                    throw new Refusal(ResponseCode.TOO_MANY_REQUESTS, "rate-limited", "device " + device.deviceId()
                            + " may send " + l.messagesPerSecond() + " messages per second");
                }
            })).chain(device -> {
                // Mapped before anything is sent: a payload that cannot be mapped changes nothing.
                Uni<Void> sent = empty ? Uni.createFrom().voidItem()
                        : mappings.forDevice(device).chain(m -> map(m, payload, exchange, feature))
                                .invoke(mapped -> {
                                    String full = rooms.refusal(device, mapped);
                                    if (full != null) {
                                        throw new Refusal(ResponseCode.REQUEST_ENTITY_TOO_LARGE, TwinRooms.TWIN_FULL,
                                                full);
                                    }
                                })
                                .chain(mapped -> downstream.report(TelemetryReceived.of(UUID.randomUUID().toString(),
                                        device, channel, mapped.features(), mapped.attributes(),
                                        Instant.now().truncatedTo(ChronoUnit.MICROS), TRANSPORT)))
                                .invoke(() -> count(channel, "accepted"));
                if (!commands.shouldWait(device, ttd)) {
                    return sent.replaceWith(() -> new Response(ResponseCode.CHANGED));
                }
                // The wait outlasts CoAP's acknowledgement timeout: acknowledge now, answer separately.
                exchange.accept();
                return sent.chain(() -> commands.await(device, ttd, TRANSPORT))
                        .map(command -> command == null ? new Response(ResponseCode.CHANGED)
                                : commandResponse(command, device, path.size() == 3));
            });
        }

        private Uni<MappedReport> map(PayloadMappings.DeviceMapper mapper, byte[] payload, CoapExchange exchange,
                String feature) {
            var options = exchange.getRequestOptions();
            String contentType = options.hasContentFormat() ? MediaTypeRegistry.toString(options.getContentFormat())
                    : null;
            return mappings.map(mapper, payload, contentType, feature, channel).onFailure(MappingException.class)
                    .transform(failure -> {
                        MappingException e = (MappingException) failure;
                        return new Refusal(switch (e.reason()) {
                            case DefaultPayloadMapper.UNSUPPORTED_CONTENT_TYPE -> ResponseCode.UNSUPPORTED_CONTENT_FORMAT;
                            case MappingPool.BUSY -> ResponseCode.SERVICE_UNAVAILABLE;
                            default -> ResponseCode.BAD_REQUEST;
                        }, e.reason(), e.getMessage());
                    });
        }

        /** Hono's command response: where to answer in location-path, the command's name in location-query. */
        private Response commandResponse(CommandRequested command, ThingId device, boolean namedDevice) {
            Response r = new Response(ResponseCode.CONTENT);
            r.setPayload(command.payload() == null ? new byte[0] : command.payload());
            if (command.contentType() != null) {
                int format = MediaTypeRegistry.parse(command.contentType());
                if (format != MediaTypeRegistry.UNDEFINED) {
                    r.getOptions().setContentFormat(format);
                }
            }
            String target = namedDevice ? "/" + device.tenant() + "/" + device.deviceId() : "";
            r.getOptions().setLocationPath(command.responseRequired()
                    ? "command_response" + target + "/" + command.commandId() : "command" + target);
            r.getOptions().setLocationQuery("hono-command=" + command.subject());
            // The device has it when it acknowledges the response (or, unacknowledged types, once sent).
            r.addMessageObserver(new MessageObserverAdapter() {
                @Override
                public void onAcknowledgement() {
                    commands.delivered(command, TRANSPORT);
                }

                @Override
                public void onSent(boolean retransmission) {
                    if (r.getType() != Type.CON && !retransmission) {
                        commands.delivered(command, TRANSPORT);
                    }
                }
            });
            return r;
        }
    }

    /** {@code /command_response/{req-id}?hono-cmd-status=N} (or {@code /cr}), and the form naming the device. */
    private final class CommandResponse extends DeviceResource {

        CommandResponse(String name) {
            super(name, "command-response");
        }

        @Override
        Uni<Response> answer(CoapExchange exchange) {
            List<String> path = exchange.getRequestOptions().getUriPath();
            if (path.size() != 2 && path.size() != 4) {
                throw new Refusal(ResponseCode.NOT_FOUND, "invalid-path", "use /" + path.get(0)
                        + "/{req-id} or /" + path.get(0) + "/{tenant}/{device}/{req-id}");
            }
            Uni<ThingId> claimed = device(exchange, path.subList(1, path.size() - 1));
            String requestId = path.get(path.size() - 1);
            int status = status(Query.of(exchange.getRequestOptions().getUriQuery()).get("hono-cmd-status"));
            var options = exchange.getRequestOptions();
            String contentType = options.hasContentFormat() ? MediaTypeRegistry.toString(options.getContentFormat())
                    : null;
            byte[] payload = exchange.getRequestPayload() == null ? new byte[0] : exchange.getRequestPayload();
            return claimed.chain(device -> {
                Uni<Void> sent = router.respond(device.toString(), requestId, status, contentType, payload, TRANSPORT);
                if (sent == null) {
                    throw new Refusal(ResponseCode.NOT_FOUND, "unknown-request-id",
                            "no command " + requestId + " awaits an answer from this device");
                }
                return sent.invoke(() -> count(metric, "accepted")).replaceWith(() -> new Response(ResponseCode.CHANGED));
            });
        }

        private static int status(String value) {
            try {
                int code = Integer.parseInt(value == null ? "" : value.trim());
                if (code >= 200 && code < 600) {
                    return code;
                }
            } catch (NumberFormatException e) {
                // refused below
            }
            throw new Refusal(ResponseCode.BAD_REQUEST, "invalid-command-status",
                    "hono-cmd-status is required: an HTTP status code, 200 to 599");
        }
    }

    /** CoAP URI-query options: {@code name=value} or a bare {@code name}. */
    private record Query(List<String> options) {

        static Query of(List<String> options) {
            return new Query(options);
        }

        String get(String name) {
            for (String o : options) {
                if (o.startsWith(name + "=")) {
                    return o.substring(name.length() + 1);
                }
            }
            return null;
        }

        boolean has(String name) {
            return options.stream().anyMatch(o -> o.equals(name) || o.startsWith(name + "="));
        }
    }

    private void count(String channel, String outcome) {
        metrics.counter("doppel.coap.messages", "channel", channel, "outcome", outcome).increment();
    }
}

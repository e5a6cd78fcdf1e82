package dev.doppel.connectivity.bridge;

import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.CommandSink;
import dev.doppel.connectivity.egress.EgressPolicy;
import dev.doppel.connectivity.egress.EgressRefused;
import dev.doppel.connectivity.mapping.MappingException;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * One connection to an external broker (Vert.x's MQTT client). Messages on the definition's
 * subscriptions become reports of the devices their topics name: registered, enabled devices of the
 * connection's tenant, each through its own payload mapping. A QoS 1 message is acknowledged to the
 * broker only once Doppel's broker has its report (the session is persistent, so what is not
 * acknowledged comes again after a reconnect). A device is connected, for Doppel, from its first
 * message while the connection lasts; its commands are published to the definition's command topic.
 */
final class BridgeClient {

    private static final Logger LOG = Logger.getLogger(BridgeClient.class);
    static final String TRANSPORT = "mqtt-bridge";
    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final Duration MAX_RETRY = Duration.ofSeconds(60);
    private static final int MAX_PAYLOAD_BYTES = 256 * 1024;

    private final String key;
    private final String tenant;
    private final BridgeDefinition definition;
    private final Vertx vertx;
    private final DeviceRegistry registry;
    private final PayloadMappings mappings;
    private final DownstreamSender downstream;
    private final CommandRouter router;
    private final MeterRegistry metrics;
    private final EgressPolicy egress;
    private final Map<String, CommandSink> devices = new ConcurrentHashMap<>();
    /**
     * Commands published and not yet acknowledged, by packet id. The PUBACK can be handled before the
     * publish's own completion (they run on different threads), so whichever comes second hands the
     * command off: {@link #PUBACKED} marks a PUBACK that came first.
     */
    private final Map<Integer, Object> awaitingPuback = new ConcurrentHashMap<>();
    private static final Object PUBACKED = new Object();
    private volatile MqttClient client;
    private volatile boolean stopped;
    private volatile boolean connected;
    private Duration retry = FIRST_RETRY;

    BridgeClient(String key, String tenant, BridgeDefinition definition, Vertx vertx, DeviceRegistry registry,
            PayloadMappings mappings, DownstreamSender downstream, CommandRouter router, MeterRegistry metrics,
            EgressPolicy egress) {
        this.egress = egress;
        this.key = key;
        this.tenant = tenant;
        this.definition = definition;
        this.vertx = vertx;
        this.registry = registry;
        this.mappings = mappings;
        this.downstream = downstream;
        this.router = router;
        this.metrics = metrics;
    }

    BridgeDefinition definition() {
        return definition;
    }

    boolean isConnected() {
        return connected;
    }

    void start() {
        connect();
    }

    void stop() {
        stopped = true;
        forgetDevices();
        MqttClient c = client;
        if (c != null && c.isConnected()) {
            c.disconnect();
        }
    }

    private void connect() {
        if (stopped) {
            return;
        }
        boolean tls = definition.tls();
        String host = definition.brokerHost();
        int port = definition.brokerPort();
        MqttClientOptions options = new MqttClientOptions()
                .setClientId(definition.clientId() != null ? definition.clientId() : "doppel-" + key.replace('/', '-'))
                // A persistent session: QoS 1 messages not yet acknowledged come again after a reconnect.
                .setCleanSession(false)
                .setKeepAliveInterval(30)
                // Commands waiting for the broker's PUBACK (Vert.x allows 10 by default).
                .setMaxInflightQueue(1000)
                // MQTT's own limit: a message the client refused would close the connection, and the
                // persistent session would send it again after every reconnect, jamming what follows.
                // Oversized messages are skipped below instead (the fleet's broker bounds what it takes).
                .setMaxMessageSize(268_435_455);
        options.setAutoAck(false);
        options.setSsl(tls);
        if (tls) {
            // The broker's name is checked against its certificate (the JVM's trusted CAs).
            options.setHostnameVerificationAlgorithm("HTTPS");
        }
        if (definition.username() != null) {
            options.setUsername(definition.username()).setPassword(definition.password());
        }
        MqttClient c = MqttClient.create(vertx, options);
        client = c;
        c.publishHandler(this::onMessage);
        c.publishCompletionHandler(this::onPuback);
        c.exceptionHandler(e -> LOG.warnf("bridge %s: %s", key, e.getMessage()));
        c.closeHandler(v -> {
            connected = false;
            forgetDevices();
            if (!stopped) {
                metrics.counter("doppel.bridge.connections", "outcome", "lost").increment();
                LOG.infof("bridge %s lost its connection to %s; retrying", key, definition.uri());
                retryLater();
            }
        });
        io.vertx.core.Context context = vertx.getOrCreateContext();
        // The name is resolved and checked once, and the connection goes to the address checked; over
        // TLS the broker's certificate is still verified against the name.
        egress.check(tenant, host, port, "bridge").subscribe().with(address -> context.runOnContext(v ->
                connect(c, address.getHostAddress(), host, port)), e -> context.runOnContext(v -> {
                    if (!(e instanceof EgressRefused)) {
                        LOG.warnf("bridge %s: could not check %s: %s", key, definition.uri(), e.getMessage());
                    }
                    metrics.counter("doppel.bridge.connections", "outcome", "refused").increment();
                    retryLater();
                }));
    }

    private void connect(MqttClient c, String address, String host, int port) {
        if (stopped) {
            return;
        }
        c.connect(port, address, host).onSuccess(ack -> {
            if (stopped) {
                c.disconnect();
                return;
            }
            connected = true;
            retry = FIRST_RETRY;
            metrics.counter("doppel.bridge.connections", "outcome", "connected").increment();
            LOG.infof("bridge %s connected to %s", key, definition.uri());
            for (BridgeDefinition.Subscription s : definition.subscriptions()) {
                c.subscribe(s.filter(), s.qos() == null ? 1 : s.qos());
            }
            if (definition.responses() != null) {
                c.subscribe(definition.responses().filter(), 1);
            }
        }).onFailure(e -> {
            metrics.counter("doppel.bridge.connections", "outcome", "failed").increment();
            LOG.warnf("bridge %s could not connect to %s: %s", key, definition.uri(), e.getMessage());
            retryLater();
        });
    }

    private void retryLater() {
        if (stopped) {
            return;
        }
        Duration wait = retry;
        retry = retry.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry.multipliedBy(2);
        vertx.setTimer(wait.toMillis(), id -> connect());
    }

    private void onMessage(MqttPublishMessage msg) {
        String topic = msg.topicName();
        BridgeDefinition.Responses responses = definition.responses();
        if (responses != null) {
            String[] levels = BridgeDefinition.match(responses.filter(), topic);
            if (levels != null) {
                onResponse(msg, responses, levels);
                return;
            }
        }
        for (BridgeDefinition.Subscription s : definition.subscriptions()) {
            String[] levels = BridgeDefinition.match(s.filter(), topic);
            if (levels != null) {
                onReport(msg, s, levels);
                return;
            }
        }
        skip(msg, "telemetry", "no-subscription", "no subscription matches " + topic);
    }

    private void onReport(MqttPublishMessage msg, BridgeDefinition.Subscription s, String[] levels) {
        String channel = s.channel() == null ? "telemetry" : s.channel();
        ThingId device;
        try {
            device = ThingId.of(tenant, BridgeDefinition.expand(s.device(), levels));
        } catch (IllegalArgumentException e) {
            skip(msg, channel, "invalid-device-id", e.getMessage());
            return;
        }
        String feature = s.feature() == null ? null : BridgeDefinition.expand(s.feature(), levels);
        String contentType = s.contentType() == null ? "application/json" : s.contentType();
        if (msg.payload().length() > MAX_PAYLOAD_BYTES) {
            skip(msg, channel, "payload-too-large", msg.payload().length() + " bytes; at most " + MAX_PAYLOAD_BYTES);
            return;
        }
        byte[] payload = msg.payload().getBytes();
        Instant sourceTime = Instant.now().truncatedTo(ChronoUnit.MICROS);
        registry.status(device).chain(status -> {
            if (status != DeviceRegistry.Status.ENABLED) {
                throw new Skipped("unknown-device", "device " + device + " is not registered and enabled");
            }
            return mappings.forDevice(device);
        }).chain(mapper -> mappings.map(mapper, payload, contentType, feature, channel))
                .onFailure(MappingException.class).transform(e -> new Skipped(((MappingException) e).reason(),
                        e.getMessage()))
                .chain(mapped -> downstream.report(TelemetryReceived.of(UUID.randomUUID().toString(), device, channel,
                        mapped.features(), mapped.attributes(), sourceTime, TRANSPORT)))
                .chain(() -> seen(device)).subscribe().with(ok -> {
            count(channel, "accepted");
            ack(msg);
        }, failure -> {
            if (failure instanceof Skipped sk) {
                skip(msg, channel, sk.getMessage(), sk.detail);
            } else {
                // Not acknowledged: the broker sends it again once the connection is back.
                count(channel, "failed");
                LOG.warnf("bridge %s could not forward %s: %s; reconnecting", key, msg.topicName(),
                        failure.getMessage());
                MqttClient c = client;
                if (c != null && c.isConnected()) {
                    c.disconnect();
                }
            }
        });
    }

    private void onResponse(MqttPublishMessage msg, BridgeDefinition.Responses r, String[] levels) {
        ThingId device;
        int status;
        try {
            device = ThingId.of(tenant, BridgeDefinition.expand(r.device(), levels));
            status = Integer.parseInt(BridgeDefinition.expand(r.status(), levels));
        } catch (IllegalArgumentException e) {
            skip(msg, "command-response", "invalid-response-topic", e.getMessage());
            return;
        }
        byte[] payload = msg.payload().getBytes();
        Uni<Void> sent = router.respond(device.toString(), BridgeDefinition.expand(r.requestId(), levels), status,
                payload.length > 0 && (payload[0] == '{' || payload[0] == '[') ? "application/json" : null, payload,
                TRANSPORT);
        if (sent == null) {
            skip(msg, "command-response", "unknown-request-id", "no command awaits this answer");
            return;
        }
        sent.subscribe().with(ok -> {
            count("command-response", "accepted");
            ack(msg);
        }, failure -> LOG.warnf("bridge %s could not report an answer: %s", key, failure.getMessage()));
    }

    /** A device's first message on this connection makes it connected, and able to take commands. */
    private Uni<Void> seen(ThingId device) {
        if (devices.containsKey(device.toString()) || stopped) {
            return Uni.createFrom().voidItem();
        }
        CommandSink sink = new CommandSink() {
            @Override
            public void deliver(CommandRequested command) {
                publishCommand(command);
            }

            @Override
            public String transport() {
                return TRANSPORT;
            }
        };
        if (devices.putIfAbsent(device.toString(), sink) != null) {
            return Uni.createFrom().voidItem();
        }
        if (definition.commandTopic() != null) {
            router.register(device.toString(), sink);
        }
        return announce(device, -1);
    }

    private void forgetDevices() {
        devices.forEach((thingId, sink) -> {
            router.unregister(thingId, sink);
            announce(ThingId.parse(thingId), 0).subscribe().with(ok -> {
            }, f -> {
            });
        });
        devices.clear();
        awaitingPuback.clear();
    }

    private Uni<Void> announce(ThingId device, int ttd) {
        return downstream.connection(new DeviceConnectionChanged(UUID.randomUUID().toString(), device.toString(), ttd,
                TRANSPORT, Instant.now())).onFailure().recoverWithNull().replaceWithVoid();
    }

    /**
     * The external broker taking the command is its {@code SENT}; what happens after is the fleet's
     * own business, so {@code DELIVERED} is never claimed. An answer on the responses topic settles it.
     */
    private void publishCommand(CommandRequested command) {
        MqttClient c = client;
        if (c == null || !connected) {
            return; // the connection went: the device is disconnected, command-service keeps it queued
        }
        ThingId id = ThingId.parse(command.thingId());
        String topic = BridgeDefinition.expand(definition.commandTopic(), Map.of("device", id.deviceId(),
                "subject", command.subject(), "requestId", command.commandId()));
        c.publish(topic, Buffer.buffer(command.payload() == null ? new byte[0] : command.payload()),
                MqttQoS.AT_LEAST_ONCE, false, false)
                .onSuccess(packetId -> {
                    if (awaitingPuback.putIfAbsent(packetId, command) == PUBACKED) {
                        awaitingPuback.remove(packetId);
                        handOff(command);
                    }
                })
                .onFailure(e -> LOG.warnf("bridge %s could not publish command %s: %s", key, command.commandId(),
                        e.getMessage()));
    }

    private void onPuback(Integer packetId) {
        if (awaitingPuback.putIfAbsent(packetId, PUBACKED) instanceof CommandRequested command) {
            awaitingPuback.remove(packetId);
            handOff(command);
        }
    }

    private void handOff(CommandRequested command) {
        router.handedOff(command, TRANSPORT).subscribe().with(ok -> count("command", "sent"),
                f -> LOG.warnf("could not report %s as sent: %s", command.commandId(), f.getMessage()));
    }

    private void ack(MqttPublishMessage msg) {
        if (msg.qosLevel() == MqttQoS.AT_LEAST_ONCE) {
            msg.ack();
        }
    }

    private void skip(MqttPublishMessage msg, String channel, String reason, String detail) {
        count(channel, reason);
        LOG.infof("bridge %s skipped a message on %s (%s): %s", key, msg.topicName(), reason, detail);
        ack(msg);
    }

    private void count(String channel, String outcome) {
        metrics.counter("doppel.bridge.messages", "channel", channel, "outcome", outcome).increment();
    }

    /** A message that cannot become a report: acknowledged (it would never succeed), counted, logged. */
    private static final class Skipped extends RuntimeException {
        final String detail;

        Skipped(String reason, String detail) {
            super(reason, null, false, false);
            this.detail = detail;
        }
    }
}

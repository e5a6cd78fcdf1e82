package dev.doppel.connectivity.adapter.mqtt;

import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.CommandSink;
import dev.doppel.connectivity.config.MqttAdapterConfig;
import dev.doppel.connectivity.limits.DeviceLimits;
import dev.doppel.connectivity.limits.RefusalLog;
import dev.doppel.connectivity.limits.TwinRooms;
import dev.doppel.connectivity.mapping.MappedReport;
import dev.doppel.connectivity.mapping.MappingException;
import dev.doppel.connectivity.mapping.MappingPool;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttTopicSubscription;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubscribeMessage;
import io.vertx.mqtt.messages.MqttUnsubscribeMessage;
import io.vertx.mqtt.messages.codes.MqttPubAckReasonCode;
import io.vertx.mqtt.messages.codes.MqttSubAckReasonCode;
import io.vertx.mqtt.messages.codes.MqttUnsubAckReasonCode;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One authenticated device connection. All handlers run on the connection's Vert.x context; results
 * of asynchronous work (Kafka acknowledgements) are brought back to it before touching the endpoint.
 */
final class MqttDeviceSession implements CommandSink {

    private static final String TRANSPORT = "mqtt";

    private final MqttEndpoint endpoint;
    private final Context ctx;
    private final ThingId device;
    private final MqttAdapterConfig config;
    private final DownstreamSender downstream;
    private final PayloadMappings.DeviceMapper mapper;
    private final PayloadMappings mappings;
    private final DeviceRegistry registry;
    private final DeviceLimits limits;
    private final TwinRooms rooms;
    private final DeviceRegistry.Limits tenantLimits;
    /** Devices this connection was lately found to be the gateway of, and until when that holds. */
    private final Map<String, Instant> gatewayFor = new ConcurrentHashMap<>();
    private static final int GATEWAY_CHECK_SECONDS = 10;
    private final CommandRouter router;
    private final MeterRegistry metrics;
    /** Refusals are counted each, logged at most once an interval per device. */
    private final RefusalLog refusals;
    private final Map<Integer, CommandRequested> inFlight = new ConcurrentHashMap<>();
    /** Commands on their way on this connection, from the hand-over until the router knows the PUBACK. */
    private final java.util.Set<String> sending = ConcurrentHashMap.newKeySet();
    /** The device's subscription to its own commands, or null. */
    private volatile MqttTopic.CommandSubscription commandFilter;
    /** A gateway's subscription to the commands of all its devices ({@code command//+/req/#}), or null. */
    private MqttTopic.CommandSubscription allDevices;
    /** Devices this gateway takes commands for on this connection, by device id, with the subscription that asked. */
    private final Map<String, Behind> behind = new ConcurrentHashMap<>();
    /** UNSUBSCRIBEs, so a SUBSCRIBE answered later can tell whether its filter went meanwhile. */
    private final RecentUnsubscribes unsubscribes = new RecentUnsubscribes();
    private Instant lastSourceTime = Instant.EPOCH;
    private boolean closing;
    /** The mapping of this connection's latest message that has a custom mapping, and how many wait. */
    private CompletableFuture<?> mappingLane = CompletableFuture.completedFuture(null);
    private int mappingsWaiting;
    private static final int MAPPINGS_WAITING = 100;

    /** What a connection keeps from the moment its device connected: its payload mapping and its tenant's limits. */
    record Settings(PayloadMappings.DeviceMapper mapper, DeviceRegistry.Limits limits) {
    }

    MqttDeviceSession(MqttEndpoint endpoint, Context ctx, ThingId device, MqttAdapterConfig config,
            DownstreamSender downstream, Settings settings, PayloadMappings mappings, DeviceRegistry registry,
            DeviceLimits limits, TwinRooms rooms, CommandRouter router, MeterRegistry metrics, RefusalLog refusals) {
        this.endpoint = endpoint;
        this.rooms = rooms;
        this.refusals = refusals;
        this.ctx = ctx;
        this.device = device;
        this.config = config;
        this.downstream = downstream;
        this.mapper = settings.mapper();
        this.tenantLimits = settings.limits();
        this.limits = limits;
        this.mappings = mappings;
        this.registry = registry;
        this.router = router;
        this.metrics = metrics;
    }

    void attach() {
        endpoint.publishAutoAck(false);
        endpoint.publishHandler(this::onPublish);
        endpoint.subscribeHandler(this::onSubscribe);
        endpoint.unsubscribeHandler(this::onUnsubscribe);
        endpoint.publishAcknowledgeHandler(this::onCommandAcknowledged);
        endpoint.exceptionHandler(t -> MqttAdapter.LOG.debugf("connection of %s failed: %s", device, t.getMessage()));
    }

    // ---- device → service ------------------------------------------------------------------------

    private void onPublish(MqttPublishMessage msg) {
        if (closing) {
            return;
        }
        Buffer payload = msg.payload();
        if (payload.length() > config.maxPayloadBytes()) {
            reject("payload-too-large", msg, "payload of " + payload.length() + " bytes exceeds "
                    + config.maxPayloadBytes());
            return;
        }
        if (msg.qosLevel() == MqttQoS.EXACTLY_ONCE) {
            reject("qos-not-supported", msg, "QoS 2 is not supported");
            return;
        }
        MqttTopic topic = MqttTopic.parse(msg.topicName());
        if (topic instanceof MqttTopic.Report report) {
            onReport(msg, report, payload.getBytes());
        } else if (topic instanceof MqttTopic.CommandResponse response) {
            onCommandResponse(msg, response, payload.getBytes());
        } else {
            reject("unknown-topic", msg, "devices may publish to telemetry, event and command///res only");
        }
    }

    private void onReport(MqttPublishMessage msg, MqttTopic.Report topic, byte[] payload) {
        if ("event".equals(topic.channel()) && msg.qosLevel() != MqttQoS.AT_LEAST_ONCE) {
            reject("event-needs-qos1", msg, "events must be published with QoS 1");
            return;
        }
        String tenant = topic.tenant().isEmpty() ? device.tenant() : topic.tenant();
        if (!tenant.equals(device.tenant())) {
            reject("not-authorized", msg, "a device reports only within its own tenant");
            return;
        }
        if (topic.deviceId().isEmpty() || topic.deviceId().equals(device.deviceId())) {
            forward(msg, topic, device, mapper, payload, nextSourceTime());
            return;
        }
        // Hono's gateway form: this connection reports for another device, which must name it in its "via".
        ThingId target;
        try {
            target = ThingId.of(tenant, topic.deviceId());
        } catch (IllegalArgumentException e) {
            reject("invalid-device-id", msg, e.getMessage());
            return;
        }
        Instant sourceTime = nextSourceTime();
        mayActFor(target).chain(ok -> ok ? mappings.forDevice(target) : Uni.createFrom().nullItem())
                .emitOn(r -> ctx.runOnContext(v -> r.run()))
                .subscribe().with(targetMapper -> {
                    if (closing) {
                        return;
                    }
                    if (targetMapper == null) {
                        reject("not-a-gateway", msg, device.deviceId() + " is not a gateway of "
                                + target.deviceId() + " (its registration has no via naming it)");
                    } else {
                        forward(msg, topic, target, targetMapper, payload, sourceTime);
                    }
                }, failure -> {
                    MqttAdapter.LOG.warnf("registry unavailable for gateway %s: %s; closing so it retries", device,
                            failure.getMessage());
                    close();
                });
    }

    /**
     * Whether this connection's device is (still) the gateway of {@code target}, as the registry says:
     * a positive answer is kept for {@value #GATEWAY_CHECK_SECONDS} s, so removing the gateway from the
     * device's {@code via} (or disabling the device) counts within that time, for reports, commands and
     * answers alike.
     */
    private Uni<Boolean> mayActFor(ThingId target) {
        if (checkedLately(target.deviceId())) {
            return Uni.createFrom().item(true);
        }
        Instant now = Instant.now();
        return registry.isGatewayFor(device, target).invoke(ok -> {
            if (ok) {
                gatewayFor.put(target.deviceId(), now.plusSeconds(GATEWAY_CHECK_SECONDS));
            } else {
                gatewayFor.remove(target.deviceId());
            }
        });
    }

    /** Whether this connection was found to be the gateway of {@code deviceId} within the last 10 s. */
    private boolean checkedLately(String deviceId) {
        Instant until = gatewayFor.get(deviceId);
        return until != null && Instant.now().isBefore(until);
    }

    /** Maps a report of {@code target} (this device, or one it is the gateway of) and sends it on. */
    private void forward(MqttPublishMessage msg, MqttTopic.Report topic, ThingId target,
            PayloadMappings.DeviceMapper targetMapper, byte[] payload, Instant sourceTime) {
        if (!limits.tryMessage(target, tenantLimits)) {
            if (msg.qosLevel() == MqttQoS.AT_MOST_ONCE) {
                count(topic.channel(), "rate-limited"); // at most once: dropped
            } else {
                // MQTT 3.1.1 can only close (the device retries after reconnecting); MQTT 5 gets PUBACK 0x97.
                reject("rate-limited", msg, "more than " + tenantLimits.messagesPerSecond()
                        + " messages per second");
            }
            return;
        }
        String declared = topic.bag().get("content-type");
        String contentType = declared != null ? declared : Mqtt5.contentType(msg);
        String feature = topic.bag().get("feature");
        if (targetMapper.quick()) {
            MappedReport mapped;
            try {
                mapped = targetMapper.map(payload, contentType, feature, topic.channel());
            } catch (MappingException e) {
                reject(e.reason(), msg, e.getMessage());
                return;
            }
            send(msg, topic, target, mapped, sourceTime);
            return;
        }
        // A custom mapping runs off the event loop every connection shares, this connection's in order.
        if (mappingsWaiting >= MAPPINGS_WAITING) {
            reject(MappingPool.BUSY, msg, "more than " + MAPPINGS_WAITING + " messages of this connection wait "
                    + "for their mapping");
            return;
        }
        mappingsWaiting++;
        CompletableFuture<MappedReport> mapped = mappings.mapAfter(targetMapper, payload, contentType, feature,
                topic.channel(), mappingLane);
        mappingLane = mapped;
        mapped.whenComplete((report, failure) -> ctx.runOnContext(v -> {
            mappingsWaiting--;
            if (closing) {
                return;
            }
            if (failure == null) {
                send(msg, topic, target, report, sourceTime);
            } else if (failure instanceof MappingException e) {
                reject(e.reason(), msg, e.getMessage());
            } else {
                reject("mapping-failed", msg, String.valueOf(failure.getMessage()));
            }
        }));
    }

    /** Sends a mapped report on; a QoS 1 message is acknowledged once the broker has it. */
    private void send(MqttPublishMessage msg, MqttTopic.Report topic, ThingId target, MappedReport mapped,
            Instant sourceTime) {
        String full = rooms.refusal(target, mapped);
        if (full != null) {
            if (msg.qosLevel() == MqttQoS.AT_MOST_ONCE) {
                count(topic.channel(), TwinRooms.TWIN_FULL); // at most once: dropped
            } else {
                reject(TwinRooms.TWIN_FULL, msg, full);
            }
            return;
        }
        TelemetryReceived report = TelemetryReceived.of(UUID.randomUUID().toString(), target, topic.channel(),
                mapped.features(), mapped.attributes(), sourceTime, TRANSPORT);
        Uni<Void> sent = downstream.report(report);
        if (msg.qosLevel() == MqttQoS.AT_MOST_ONCE) {
            sent.subscribe().with(ok -> count(topic.channel(), "accepted"),
                    failure -> count(topic.channel(), "lost-qos0"));
            return;
        }
        // QoS 1: PUBACK only once the broker has the event; what the device was told is accepted is never lost.
        sent.emitOn(r -> ctx.runOnContext(v -> r.run())).subscribe().with(ok -> {
            count(topic.channel(), "accepted");
            if (endpoint.isConnected()) {
                endpoint.publishAcknowledge(msg.messageId());
            }
        }, failure -> {
            count(topic.channel(), "failed");
            MqttAdapter.LOG.warnf("could not forward %s of %s: %s; closing so the device retries", topic.channel(),
                    device, failure.getMessage());
            close();
        });
    }

    private void onCommandResponse(MqttPublishMessage msg, MqttTopic.CommandResponse response, byte[] payload) {
        if (response.deviceId().isEmpty() || response.deviceId().equals(device.deviceId())) {
            answer(msg, device, response, payload);
            return;
        }
        // A gateway answers for one of its devices: one that names it in its via.
        ThingId target;
        try {
            target = ThingId.of(device.tenant(), response.deviceId());
        } catch (IllegalArgumentException e) {
            reject("invalid-device-id", msg, e.getMessage());
            return;
        }
        mayActFor(target).emitOn(r -> ctx.runOnContext(v -> r.run())).subscribe().with(ok -> {
            if (closing) {
                return;
            }
            if (ok) {
                answer(msg, target, response, payload);
            } else {
                reject("not-a-gateway", msg, device.deviceId() + " is not a gateway of "
                        + target.deviceId());
            }
        }, failure -> {
            MqttAdapter.LOG.warnf("registry unavailable for gateway %s: %s; closing so it retries", device,
                    failure.getMessage());
            close();
        });
    }

    private void answer(MqttPublishMessage msg, ThingId target, MqttTopic.CommandResponse response, byte[] payload) {
        String declared = Mqtt5.contentType(msg);
        Uni<Void> sent = router.respond(target.toString(), response.requestId(), response.status(),
                declared != null ? declared : guessContentType(payload), payload, TRANSPORT);
        if (sent == null) {
            // Late (after timeout) or not a command of this device: dropped, counted, not an offence.
            metrics.counter("doppel.mqtt.rejected", "reason", "unknown-request-id").increment();
            refusals.log(MqttAdapter.LOG, device.toString(), "dropped answer of %s to unknown request id %s", target,
                    response.requestId());
            if (msg.qosLevel() == MqttQoS.AT_LEAST_ONCE) {
                endpoint.publishAcknowledge(msg.messageId());
            }
            return;
        }
        sent.emitOn(r -> ctx.runOnContext(v -> r.run())).subscribe().with(ok -> {
            count("command-response", "accepted");
            if (msg.qosLevel() == MqttQoS.AT_LEAST_ONCE && endpoint.isConnected()) {
                endpoint.publishAcknowledge(msg.messageId());
            }
        }, failure -> close());
    }

    // ---- subscriptions -----------------------------------------------------------------------------

    private void onSubscribe(MqttSubscribeMessage msg) {
        List<MqttTopicSubscription> wanted = msg.topicSubscriptions();
        List<Uni<MqttSubAckReasonCode>> outcomes = new ArrayList<>();
        for (MqttTopicSubscription s : wanted) {
            MqttTopic.CommandSubscription sub = MqttTopic.CommandSubscription.parse(s.topicName());
            MqttSubAckReasonCode granted = s.qualityOfService() == MqttQoS.AT_MOST_ONCE ? MqttSubAckReasonCode.GRANTED_QOS0
                    : MqttSubAckReasonCode.GRANTED_QOS1;
            if (sub == null) {
                metrics.counter("doppel.mqtt.rejected", "reason", "unknown-subscription").increment();
                outcomes.add(Uni.createFrom().item(MqttSubAckReasonCode.TOPIC_FILTER_INVALID));
            } else if (forSelf(sub)) {
                outcomes.add(Uni.createFrom().item(() -> {
                    boolean first = commandFilter == null;
                    commandFilter = sub;
                    if (first) {
                        router.register(device.toString(), this);
                        announce(device, -1);
                    }
                    return granted;
                }));
            } else {
                outcomes.add(subscribeForDevices(sub).map(ok -> ok ? granted : MqttSubAckReasonCode.NOT_AUTHORIZED));
            }
        }
        if (outcomes.isEmpty()) {
            endpoint.subscribeAcknowledge(msg.messageId(), List.<MqttQoS>of());
            return;
        }
        // Granted once each subscription holds: a command sent after the SUBACK finds the device reachable.
        Uni.join().all(outcomes).andFailFast().emitOn(r -> ctx.runOnContext(v -> r.run())).subscribe().with(codes -> {
            if (!endpoint.isConnected()) {
                return;
            }
            if (Mqtt5.speaks5(endpoint)) {
                endpoint.subscribeAcknowledge(msg.messageId(), codes, new io.netty.handler.codec.mqtt.MqttProperties());
            } else {
                endpoint.subscribeAcknowledge(msg.messageId(), codes.stream().map(Mqtt5::v311).toList());
            }
        }, failure -> {
            MqttAdapter.LOG.warnf("registry unavailable for subscription of %s: %s; closing so it retries", device,
                    failure.getMessage());
            close();
        });
    }

    /** The device's own commands: {@code command///req/#}, or Hono's form naming its own id. */
    private boolean forSelf(MqttTopic.CommandSubscription sub) {
        return sub.own() || sub.deviceId().equals(device.deviceId());
    }

    /**
     * A gateway asks for the commands of its devices: all that name it in their {@code via} (as the
     * registry has them now), or one. Each becomes reachable here, and connected for the rest of the system.
     */
    private Uni<Boolean> subscribeForDevices(MqttTopic.CommandSubscription sub) {
        long asOf = unsubscribes.now();
        Uni<List<String>> devices;
        if (sub.all()) {
            devices = registry.devicesVia(device, config.maxDevicesPerGateway()).invoke(ids -> {
                if (ids.size() >= config.maxDevicesPerGateway()) {
                    MqttAdapter.LOG.warnf("gateway %s acts for %d devices or more; commands reach the first %d "
                            + "through %s, the others need a subscription of their own", device, ids.size(),
                            config.maxDevicesPerGateway(), sub.filter());
                }
            });
        } else {
            ThingId target;
            try {
                target = ThingId.of(device.tenant(), sub.deviceId());
            } catch (IllegalArgumentException e) {
                metrics.counter("doppel.mqtt.rejected", "reason", "invalid-device-id").increment();
                return Uni.createFrom().item(false);
            }
            devices = mayActFor(target).map(ok -> ok ? List.of(sub.deviceId()) : List.of());
        }
        return devices.emitOn(r -> ctx.runOnContext(v -> r.run())).map(ids -> {
            if (closing || !endpoint.isConnected()) {
                return false;
            }
            if (unsubscribes.since(sub.filter(), asOf)) {
                return true; // unsubscribed while the registry was asked: granted, and already gone again
            }
            if (!sub.all() && ids.isEmpty()) {
                metrics.counter("doppel.mqtt.rejected", "reason", "not-a-gateway").increment();
                refusals.log(MqttAdapter.LOG, device.toString(), "%s may not take commands for %s: not its gateway", device,
                        sub.deviceId());
                return false;
            }
            if (sub.all()) {
                allDevices = sub;
            }
            for (String id : ids) {
                Behind held = behind.get(id);
                // A subscription for one device outranks the one for all.
                if (held == null || !sub.all() || held.subscription().all()) {
                    hold(new Behind(id, sub), held);
                }
            }
            return true;
        });
    }

    /** Makes {@code now} the holder of its device on this connection, in place of {@code before} (or null). */
    private void hold(Behind now, Behind before) {
        behind.put(now.deviceId(), now);
        router.register(now.thingId.toString(), now);
        if (before == null) {
            announce(now.thingId, -1);
        } else {
            router.unregister(before.thingId.toString(), before);
        }
    }

    private void onUnsubscribe(MqttUnsubscribeMessage msg) {
        List<MqttUnsubAckReasonCode> codes = new ArrayList<>();
        for (String t : msg.topics()) {
            MqttTopic.CommandSubscription sub = MqttTopic.CommandSubscription.parse(t);
            boolean held = false;
            if (sub != null) {
                unsubscribes.unsubscribed(sub.filter());
                if (forSelf(sub)) {
                    if (sub.equals(commandFilter)) {
                        held = true;
                        commandFilter = null;
                        if (router.unregister(device.toString(), this)) {
                            announce(device, 0);
                        }
                    }
                } else if (sub.all()) {
                    if (sub.equals(allDevices)) {
                        held = true;
                        allDevices = null;
                        for (Behind b : List.copyOf(behind.values())) {
                            if (b.subscription().all()) {
                                drop(b);
                            }
                        }
                    }
                } else {
                    Behind b = behind.get(sub.deviceId());
                    if (b != null && b.subscription().equals(sub)) {
                        held = true;
                        if (allDevices != null) {
                            hold(new Behind(b.deviceId(), allDevices), b); // still one of all the gateway's devices
                        } else {
                            drop(b);
                        }
                    }
                }
            }
            codes.add(held ? MqttUnsubAckReasonCode.SUCCESS : MqttUnsubAckReasonCode.NO_SUBSCRIPTION_EXISTED);
        }
        if (Mqtt5.speaks5(endpoint)) {
            endpoint.unsubscribeAcknowledge(msg.messageId(), codes, new io.netty.handler.codec.mqtt.MqttProperties());
        } else {
            endpoint.unsubscribeAcknowledge(msg.messageId());
        }
    }

    /** Lets go of a device behind this gateway; it is gone unless another connection here holds it. */
    private void drop(Behind b) {
        if (behind.remove(b.deviceId(), b) && router.unregister(b.thingId.toString(), b)) {
            announce(b.thingId, 0);
        }
    }

    void closed() {
        if (commandFilter != null) {
            commandFilter = null;
            if (router.unregister(device.toString(), this)) {
                announce(device, 0);
            }
        }
        allDevices = null;
        for (Behind b : List.copyOf(behind.values())) {
            drop(b);
        }
    }

    private void announce(ThingId thing, int ttd) {
        downstream.connection(new DeviceConnectionChanged(UUID.randomUUID().toString(), thing.toString(), ttd,
                TRANSPORT, Instant.now())).subscribe().with(ok -> {
                }, failure -> MqttAdapter.LOG.warnf("could not announce ttd=%d for %s: %s", ttd, thing,
                        failure.getMessage()));
    }

    /** A device behind this gateway connection: its commands go out on the gateway's connection. */
    private final class Behind implements CommandSink {

        private final String deviceId;
        private final ThingId thingId;
        private final MqttTopic.CommandSubscription subscription;
        /** Commands that wait for a registry check under way (on the connection's context only), or null. */
        private List<CommandRequested> checking;

        Behind(String deviceId, MqttTopic.CommandSubscription subscription) {
            this.deviceId = deviceId;
            this.thingId = ThingId.of(device.tenant(), deviceId);
            this.subscription = subscription;
        }

        String deviceId() {
            return deviceId;
        }

        MqttTopic.CommandSubscription subscription() {
            return subscription;
        }

        @Override
        public void deliver(CommandRequested command) {
            ctx.runOnContext(v -> {
                if (checking != null) {
                    checking.add(command); // in submission order, after the check under way
                    return;
                }
                if (checkedLately(deviceId)) {
                    send(command, this, deviceId);
                    return;
                }
                // Still its gateway? A device taken off the gateway's via (or disabled) is let go instead.
                checking = new ArrayList<>(List.of(command));
                mayActFor(thingId).emitOn(r -> ctx.runOnContext(x -> r.run())).subscribe().with(ok -> {
                    List<CommandRequested> waiting = checking;
                    checking = null;
                    if (ok) {
                        waiting.forEach(c -> send(c, this, deviceId));
                    } else {
                        MqttAdapter.LOG.infof("%s is no longer the gateway of %s: its commands stop here", device,
                                thingId);
                        drop(this);
                    }
                }, failure -> {
                    checking = null;
                    MqttAdapter.LOG.warnf("registry unavailable; commands for %s not sent through gateway %s: %s",
                            thingId, device, failure.getMessage());
                });
            });
        }

        @Override
        public String transport() {
            return TRANSPORT;
        }
    }

    // ---- service → device --------------------------------------------------------------------------

    @Override
    public void deliver(CommandRequested command) {
        send(command, null, null);
    }


    /** Sends on this connection a command of the device itself ({@code via} null) or of one behind it. */
    private void send(CommandRequested command, Behind via, String deviceInTopic) {
        ctx.runOnContext(v -> {
            MqttTopic.CommandSubscription filter = via == null ? commandFilter
                    : behind.get(via.deviceId()) == via ? via.subscription() : null;
            if (filter == null || !endpoint.isConnected()) {
                return;
            }
            // Hono's form that names the device's own id gets its commands on topics that name it too.
            String inTopic = via != null ? deviceInTopic : filter.own() ? null : filter.deviceId();
            // Checked here, on the connection's context where PUBACKs are handled too, so that no
            // acknowledgement can slip in between the check and the send.
            if (router.wasAcknowledged(command.commandId()) || !sending.add(command.commandId())) {
                return; // handed over again while on its way, or after the device acknowledged it
            }
            String topic = filter.topic(inTopic, command.responseRequired() ? command.commandId() : null,
                    command.subject());
            byte[] payload = command.payload() == null ? new byte[0] : command.payload();
            endpoint.publish(topic, Buffer.buffer(payload), MqttQoS.AT_LEAST_ONCE, false, false)
                    .onSuccess(messageId -> {
                        inFlight.put(messageId, command);
                        router.reportStep(command, CommandStatus.SENT, TRANSPORT).subscribe().with(ok -> {
                        }, f -> {
                        });
                    })
                    .onFailure(t -> sending.remove(command.commandId()))
                    .onFailure(t -> MqttAdapter.LOG.warnf("could not send command %s to %s: %s", command.commandId(),
                            command.thingId(), t.getMessage()));
        });
    }

    private void onCommandAcknowledged(int messageId) {
        CommandRequested command = inFlight.remove(messageId);
        if (command != null) {
            // reportStep remembers the acknowledgement before it returns, so a repeat stays caught.
            router.reportStep(command, CommandStatus.DELIVERED, TRANSPORT).subscribe().with(ok -> {
            }, f -> {
            });
            sending.remove(command.commandId());
        }
    }

    @Override
    public String transport() {
        return TRANSPORT;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** Strictly increasing per connection, with microsecond precision, so reports of one device keep order. */
    private Instant nextSourceTime() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        lastSourceTime = now.isAfter(lastSourceTime) ? now : lastSourceTime.plus(1, ChronoUnit.MICROS);
        return lastSourceTime;
    }

    /**
     * A message refused, counted, and logged unless the device had one logged lately ({@link RefusalLog}). MQTT 3.1.1 has no error reply to a PUBLISH, so its
     * connection is closed. An MQTT 5 client is told why: a QoS 1 message in its PUBACK's reason code
     * (the connection stays), otherwise in a DISCONNECT's.
     */
    private void reject(String reason, MqttPublishMessage msg, String detail) {
        metrics.counter("doppel.mqtt.rejected", "reason", reason).increment();
        String topic = msg.topicName() == null ? "" : msg.topicName();
        topic = topic.length() > 128 ? topic.substring(0, 128) + "..." : topic;
        boolean v5 = Mqtt5.speaks5(endpoint);
        MqttPubAckReasonCode code = v5 && msg.qosLevel() == MqttQoS.AT_LEAST_ONCE ? Mqtt5.pubAck(reason) : null;
        String why = detail == null ? reason : reason + ": " + (detail.length() > 200 ? detail.substring(0, 200) : detail);
        if (code != null) {
            refusals.log(MqttAdapter.LOG, device.toString(), "refused message of %s on '%s' with PUBACK 0x%02x (%s): %s",
                    device, topic, code.value(), reason, detail);
            if (endpoint.isConnected()) {
                endpoint.publishAcknowledge(msg.messageId(), code, Mqtt5.problemReason(endpoint, why));
            }
            return;
        }
        refusals.log(MqttAdapter.LOG, device.toString(), "closing connection of %s: message on '%s' rejected (%s): %s",
                device, topic, reason, detail);
        if (v5 && endpoint.isConnected()) {
            endpoint.disconnect(Mqtt5.disconnect(reason), Mqtt5.reasonString(endpoint, why));
        }
        close();
    }

    /**
     * Ends the connection because the device would not be let in now (a registry change): an MQTT 5
     * client is told why in a DISCONNECT ({@code 0x87}, not authorized, with {@code reason} and
     * {@code detail} as its reason string), an MQTT 3.1.1 one is closed. Runs on the connection's context.
     */
    void end(String reason, String detail) {
        ctx.runOnContext(v -> {
            if (closing) {
                return;
            }
            metrics.counter("doppel.mqtt.ended", "reason", reason).increment();
            MqttAdapter.LOG.infof("ending the connection of %s: %s (%s)", device, reason, detail);
            if (Mqtt5.speaks5(endpoint) && endpoint.isConnected()) {
                endpoint.disconnect(Mqtt5.disconnect(reason), Mqtt5.reasonString(endpoint, reason + ": " + detail));
            }
            close();
        });
    }

    ThingId device() {
        return device;
    }

    /** The certificate chain this connection logged in with, or null for a password login. */
    java.security.cert.Certificate[] loginCertificates() {
        return MqttAdapter.loginCertificates(endpoint);
    }

    private void close() {
        closing = true;
        if (endpoint.isConnected()) {
            endpoint.close();
        }
    }

    private void count(String channel, String outcome) {
        metrics.counter("doppel.mqtt.messages", "channel", channel, "outcome", outcome).increment();
    }

    private static String guessContentType(byte[] payload) {
        if (payload.length == 0) {
            return null;
        }
        byte first = payload[0];
        return first == '{' || first == '[' ? "application/json" : "text/plain";
    }
}

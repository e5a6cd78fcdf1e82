package dev.doppel.connectivity.hono;

import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.CommandSink;
import dev.doppel.connectivity.config.HonoConfig;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.mapping.MappingException;
import dev.doppel.connectivity.mapping.MappingPool;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.hono.application.client.kafka.impl.KafkaApplicationClientImpl;
import org.eclipse.hono.application.client.kafka.impl.KafkaDownstreamMessage;
import org.eclipse.hono.client.kafka.CommonKafkaClientConfigProperties;
import org.eclipse.hono.client.kafka.HonoTopic;
import org.eclipse.hono.client.kafka.consumer.AsyncHandlingAutoCommitKafkaConsumer;
import org.eclipse.hono.client.kafka.consumer.MessagingKafkaConsumerConfigProperties;
import org.eclipse.hono.client.kafka.producer.CachingKafkaProducerFactory;
import org.eclipse.hono.client.kafka.producer.MessagingKafkaProducerConfigProperties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Eclipse Hono's northbound Kafka API, with Hono's own client: for each configured tenant, the
 * telemetry and events Hono's adapters write ({@code hono.telemetry.{tenant}},
 * {@code hono.event.{tenant}}) become Doppel's events, Hono's {@code ttd} (and its empty notifications)
 * becomes {@code dt.device-connections}, commands for those devices go out on Hono's command API
 * ({@code hono.command.{tenant}}) and Hono's command responses settle them.
 *
 * <p>Records are read with Hono's {@link AsyncHandlingAutoCommitKafkaConsumer}, which commits a
 * record only once its handling completed: a record is done when Doppel's broker acknowledged its
 * event, so a crash redelivers it rather than losing it. Event ids derive from the Hono record's
 * position, so a redelivered record is the same event for the consumers downstream.
 */
@ApplicationScoped
public class HonoNorthbound {

    private static final Logger LOG = Logger.getLogger(HonoNorthbound.class);
    static final String TRANSPORT = "hono";
    static final String EMPTY_NOTIFICATION = "application/vnd.eclipse-hono-empty-notification";

    private final HonoConfig config;
    private final String doppelKafka;
    private final Vertx vertx;
    private final PayloadMappings mappings;
    private final DownstreamSender downstream;
    private final CommandRouter router;
    private final MeterRegistry metrics;
    private KafkaApplicationClientImpl client;
    private AsyncHandlingAutoCommitKafkaConsumer<Buffer> consumer;
    private volatile boolean consuming;
    /** Devices this instance announced on {@code dt.devices}; bounded, forgotten wholesale when full. */
    private final Set<String> announced = ConcurrentHashMap.newKeySet();
    private static final int ANNOUNCED_KEPT = 100_000;

    public HonoNorthbound(HonoConfig config, @ConfigProperty(name = "kafka.bootstrap.servers") String doppelKafka,
            Vertx vertx, PayloadMappings mappings, DownstreamSender downstream, CommandRouter router,
            MeterRegistry metrics) {
        this.config = config;
        this.doppelKafka = doppelKafka;
        this.vertx = vertx;
        this.mappings = mappings;
        this.downstream = downstream;
        this.router = router;
        this.metrics = metrics;
    }

    void start(@Observes StartupEvent ev) {
        List<String> tenants = config.tenants().orElse(List.of());
        if (!config.enabled() || tenants.isEmpty()) {
            return;
        }
        Map<String, String> clientConfig = new HashMap<>(config.client());
        clientConfig.put("bootstrap.servers", config.bootstrapServers().orElse(doppelKafka));
        CommonKafkaClientConfigProperties common = new CommonKafkaClientConfigProperties();
        common.setCommonClientConfig(clientConfig);
        MessagingKafkaConsumerConfigProperties consumerConfig = new MessagingKafkaConsumerConfigProperties();
        consumerConfig.setCommonClientConfig(common);
        // earliest: records written before the group's first start are not skipped.
        consumerConfig.setConsumerConfig(Map.of("group.id", config.groupId(), "auto.offset.reset", "earliest"));
        MessagingKafkaProducerConfigProperties producerConfig = new MessagingKafkaProducerConfigProperties();
        producerConfig.setCommonClientConfig(common);
        client = new KafkaApplicationClientImpl(vertx, consumerConfig, CachingKafkaProducerFactory.sharedFactory(vertx),
                producerConfig);
        client.start().onFailure(e -> LOG.errorf("Hono command sender did not start: %s", e.getMessage()));

        Set<String> topics = new HashSet<>();
        for (String tenant : tenants) {
            topics.add(new HonoTopic(HonoTopic.Type.TELEMETRY, tenant).toString());
            topics.add(new HonoTopic(HonoTopic.Type.EVENT, tenant).toString());
            topics.add(new HonoTopic(HonoTopic.Type.COMMAND_RESPONSE, tenant).toString());
            router.registerTenant(tenant, new HonoCommands(tenant));
        }
        consumer = new AsyncHandlingAutoCommitKafkaConsumer<>(vertx, topics, this::handle,
                consumerConfig.getConsumerConfig("hono-northbound"));
        consumer.start().onSuccess(v -> {
            consuming = true;
            LOG.infof("Hono northbound: consuming %s", topics);
        }).onFailure(e -> LOG.errorf("Hono northbound consumer did not start: %s", e.getMessage()));
    }

    void stop(@Observes ShutdownEvent ev) {
        if (consumer != null) {
            consumer.stop();
        }
        if (client != null) {
            client.stop();
        }
    }

    /** Whether Hono's topics are being read (or the bridge is off). */
    public boolean isConsuming() {
        return consuming || !config.enabled() || config.tenants().orElse(List.of()).isEmpty();
    }

    /** One Hono record; the future completes once what it became is acknowledged by Doppel's broker. */
    private Future<Void> handle(KafkaConsumerRecord<String, Buffer> record) {
        HonoTopic topic = HonoTopic.fromString(record.topic());
        if (topic == null) {
            return Future.succeededFuture();
        }
        KafkaDownstreamMessage message = new KafkaDownstreamMessage(record);
        String eventId = UUID.nameUUIDFromBytes((record.topic() + "/" + record.partition() + "/" + record.offset())
                .getBytes(StandardCharsets.UTF_8)).toString();
        Uni<Void> work;
        try {
            ThingId device = device(topic.getTenantId(), message.getDeviceId());
            work = switch (topic.getType()) {
                case TELEMETRY -> downstream(message, device, "telemetry", eventId);
                case EVENT -> downstream(message, device, "event", eventId);
                case COMMAND_RESPONSE -> commandResponse(message, device, eventId);
                default -> Uni.createFrom().voidItem();
            };
        } catch (Rejected r) {
            count(switch (topic.getType()) {
                case EVENT -> "event";
                case COMMAND_RESPONSE -> "command-response";
                default -> "telemetry";
            }, r.getMessage());
            LOG.warnf("Hono record %s/%d/%d rejected: %s", record.topic(), record.partition(), record.offset(),
                    r.detail);
            return Future.succeededFuture();
        }
        // Doppel's broker unavailable: the record is retried, not dropped; later records of its partition wait.
        Uni<Void> retried = work.onFailure().retry().withBackOff(Duration.ofMillis(200), Duration.ofSeconds(10))
                .indefinitely();
        return Future.fromCompletionStage(retried.subscribeAsCompletionStage());
    }

    private Uni<Void> downstream(KafkaDownstreamMessage message, ThingId device, String channel, String eventId) {
        Uni<Void> connection = announce(device);
        Integer ttd = message.getTimeTillDisconnect();
        if (ttd != null) {
            // Hono's ttd: -1 connected until further notice, 0 gone, N waiting N seconds for a command.
            connection = connection.chain(() -> downstream.connection(new DeviceConnectionChanged(eventId,
                    device.toString(), ttd, TRANSPORT, Instant.now())));
        }
        if (EMPTY_NOTIFICATION.equals(message.getContentType())) {
            return connection.invoke(() -> count(channel, "empty-notification"));
        }
        byte[] payload = message.getPayload() == null ? new byte[0] : message.getPayload().getBytes();
        Instant created = message.getCreationTime();
        Instant sourceTime = (created == null || created.equals(Instant.EPOCH) ? Instant.now() : created)
                .truncatedTo(ChronoUnit.MICROS);
        return connection.chain(() -> mappings.forDevice(device))
                .chain(m -> mappings.map(m, payload, message.getContentType(), null, channel)
                        // A record can wait for the mapping pool, unlike a device's connection.
                        .onFailure(e -> e instanceof MappingException me && MappingPool.BUSY.equals(me.reason()))
                        .retry().withBackOff(Duration.ofMillis(50), Duration.ofSeconds(1)).atMost(20))
                .chain(mapped -> downstream.report(TelemetryReceived.of(eventId, device, channel, mapped.features(),
                        mapped.attributes(), sourceTime, TRANSPORT)).invoke(() -> count(channel, "accepted")))
                .onFailure(MappingException.class).recoverWithUni(failure -> {
                    MappingException e = (MappingException) failure;
                    count(channel, e.reason());
                    LOG.warnf("Hono %s of %s not mapped (%s): %s", channel, device, e.reason(), e.getMessage());
                    return Uni.createFrom().voidItem();
                });
    }

    /**
     * A Hono tenant's devices are registered in Hono's registry, not in Doppel's. The first record of
     * one announces it on {@code dt.devices}, as a registration here would: its twin exists, and
     * command-service accepts commands for it. Announcing again (another instance, a restart) is harmless.
     */
    private Uni<Void> announce(ThingId device) {
        String thingId = device.toString();
        if (announced.contains(thingId)) {
            return Uni.createFrom().voidItem();
        }
        String eventId = UUID.nameUUIDFromBytes(("hono-device/" + thingId).getBytes(StandardCharsets.UTF_8)).toString();
        return downstream.deviceLifecycle(new DeviceLifecycleChanged(eventId, thingId, true, Instant.now()))
                .invoke(() -> {
                    if (announced.size() >= ANNOUNCED_KEPT) {
                        announced.clear();
                    }
                    announced.add(thingId);
                });
    }

    /**
     * A device's answer as Hono reports it. Any instance may read it (the topic is partitioned by
     * device), so it settles the command by its correlation id, which is the command's id.
     */
    private Uni<Void> commandResponse(KafkaDownstreamMessage message, ThingId device, String eventId) {
        Integer status = message.getStatus();
        String commandId = message.getCorrelationId();
        if (status == null || commandId == null) {
            throw new Rejected("incomplete-response", "a command response needs correlation-id and status");
        }
        byte[] payload = message.getPayload() == null ? null : message.getPayload().getBytes();
        CommandStatus outcome = status >= 200 && status < 300 ? CommandStatus.SUCCEEDED : CommandStatus.FAILED;
        return downstream.commandStatus(new CommandStatusChanged(eventId, commandId, device.toString(), outcome, status,
                null, message.getContentType(), payload, Instant.now(), TRANSPORT))
                .invoke(() -> count("command-response", "accepted"));
    }

    private static ThingId device(String tenant, String deviceId) {
        if (deviceId == null) {
            throw new Rejected("missing-device-id", "the record has no device_id header");
        }
        try {
            return ThingId.of(tenant, deviceId);
        } catch (IllegalArgumentException e) {
            throw new Rejected("invalid-device-id", e.getMessage());
        }
    }

    /** A record that cannot become an event: counted, logged and skipped. */
    private static final class Rejected extends RuntimeException {
        final String detail;

        Rejected(String outcome, String detail) {
            super(outcome, null, false, false);
            this.detail = detail;
        }
    }

    /**
     * Commands for a Hono tenant's devices, on Hono's command API. Hono holds the connections, so
     * every instance can send. Hono's broker taking the command is its {@code SENT}, and it is never
     * sent again: Hono routes it on, and answers one it cannot deliver with an error response. Hono
     * tells applications nothing more, so {@code DELIVERED} is never claimed; a command that expects
     * an answer ends with it, a one-way command stays {@code SENT} until its timer ends it.
     */
    private final class HonoCommands implements CommandSink {

        private final String tenant;

        HonoCommands(String tenant) {
            this.tenant = tenant;
        }

        @Override
        public void deliver(CommandRequested command) {
            ThingId id = ThingId.parse(command.thingId());
            Buffer data = Buffer.buffer(command.payload() == null ? new byte[0] : command.payload());
            Future<Void> sent = command.responseRequired()
                    ? client.sendAsyncCommand(tenant, id.deviceId(), command.subject(), command.commandId(),
                            config.groupId(), data, command.contentType(), null)
                    : client.sendOneWayCommand(tenant, id.deviceId(), command.subject(), data, command.contentType(),
                            null);
            sent.onSuccess(v -> router.handedOff(command, TRANSPORT).subscribe().with(ok -> count("command", "sent"),
                            f -> LOG.warnf("could not report %s as sent: %s", command.commandId(), f.getMessage())))
                    .onFailure(e -> {
                        count("command", "unavailable");
                        LOG.warnf("command %s not taken by Hono: %s", command.commandId(), e.getMessage());
                        downstream.commandStatus(new CommandStatusChanged(UUID.randomUUID().toString(),
                                command.commandId(), command.thingId(), CommandStatus.FAILED, 503, "hono-unavailable",
                                "text/plain", ("Hono did not take the command: " + e.getMessage())
                                        .getBytes(StandardCharsets.UTF_8), Instant.now(), TRANSPORT))
                                .subscribe().with(ok -> {
                                }, f -> LOG.warnf("could not report %s as failed: %s", command.commandId(),
                                        f.getMessage()));
                    });
        }

        @Override
        public String transport() {
            return TRANSPORT;
        }
    }

    private void count(String channel, String outcome) {
        metrics.counter("doppel.hono.messages", "channel", channel, "outcome", outcome).increment();
    }
}

package dev.doppel.command.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.service.CommandService;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.EventTypes;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * When a device becomes reachable for commands ({@code ttd} other than 0 on {@code dt.device-connections}),
 * its waiting commands go out in submission order. The group's offsets are committed, so a device that
 * connected while command-service was down still gets them after the restart.
 */
@ApplicationScoped
public class DeviceConnectionsConsumer {

    private static final Logger LOG = Logger.getLogger(DeviceConnectionsConsumer.class);

    private final CommandService commands;
    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public DeviceConnectionsConsumer(CommandService commands, ObjectMapper json, MeterRegistry metrics) {
        this.commands = commands;
        this.json = json;
        this.metrics = metrics;
    }

    @Incoming("device-connections")
    public Uni<Void> onConnection(ConsumerRecord<String, byte[]> record) {
        Header type = record.headers().lastHeader("ce_type");
        if (type == null
                || !EventTypes.DEVICE_CONNECTION_CHANGED.equals(new String(type.value(), StandardCharsets.UTF_8))) {
            return Uni.createFrom().voidItem();
        }
        DeviceConnectionChanged change;
        try {
            change = json.readValue(record.value(), DeviceConnectionChanged.class);
        } catch (IOException | RuntimeException e) {
            metrics.counter("doppel.commands.status.rejected", "reason", "malformed-connection-event").increment();
            LOG.warnf("rejected malformed connection record at partition %d offset %d", record.partition(),
                    record.offset());
            return Uni.createFrom().voidItem();
        }
        if (!change.connected() || change.thingId() == null) {
            return Uni.createFrom().voidItem();
        }
        return commands.dispatchWaiting(change.thingId())
                .invoke(n -> {
                    if (n > 0) {
                        LOG.debugf("%s connected: sent %d waiting commands", change.thingId(), n);
                    }
                })
                .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8)
                .replaceWithVoid();
    }
}

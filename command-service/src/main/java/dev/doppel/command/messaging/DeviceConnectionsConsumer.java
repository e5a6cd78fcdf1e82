package dev.doppel.command.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.service.CommandService;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.support.messaging.EventRecords;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
        DeviceConnectionChanged change = EventRecords.read(record, EventTypes.DEVICE_CONNECTION_CHANGED,
                DeviceConnectionChanged.class, json, e -> {
                    metrics.counter("doppel.commands.status.rejected", "reason", "malformed-connection-event")
                            .increment();
                    LOG.warnf("rejected malformed connection record at partition %d offset %d", record.partition(),
                            record.offset());
                });
        if (change == null || !change.connected() || change.thingId() == null) {
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

package dev.doppel.command.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.service.DesiredStatePush;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TwinChanged;
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

/** Reads {@code dt.twin-changes} for the delta of each twin, which {@link DesiredStatePush} carries to the device. */
@ApplicationScoped
public class TwinChangesConsumer {

    private static final Logger LOG = Logger.getLogger(TwinChangesConsumer.class);

    private final DesiredStatePush push;
    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public TwinChangesConsumer(DesiredStatePush push, ObjectMapper json, MeterRegistry metrics) {
        this.push = push;
        this.json = json;
        this.metrics = metrics;
    }

    @Incoming("twin-changes")
    public Uni<Void> onChange(ConsumerRecord<String, byte[]> record) {
        Header type = record.headers().lastHeader("ce_type");
        if (type == null || !EventTypes.TWIN_CHANGED.equals(new String(type.value(), StandardCharsets.UTF_8))) {
            return Uni.createFrom().voidItem();
        }
        TwinChanged change;
        try {
            change = json.readValue(record.value(), TwinChanged.class);
            if (change.thingId() == null) {
                throw new IOException("thingId is required");
            }
        } catch (IOException | RuntimeException e) {
            metrics.counter("doppel.commands.status.rejected", "reason", "malformed-twin-change").increment();
            LOG.warnf("rejected malformed twin change at partition %d offset %d", record.partition(), record.offset());
            return Uni.createFrom().voidItem();
        }
        return push.onTwinChanged(change)
                .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8);
    }
}

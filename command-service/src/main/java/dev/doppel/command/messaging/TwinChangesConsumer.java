package dev.doppel.command.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.service.DesiredStatePush;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.support.messaging.EventRecords;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Reads {@code dt.twin-changes} for the delta of each twin, which {@link DesiredStatePush} carries to the
 * device. A change that says it left the delta as it was ({@link TwinChanged#DELTA_HEADER}) is passed
 * over unread: the previous change of that twin, read in order before it, already brought that delta.
 */
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
        if (TwinChanged.DELTA_UNCHANGED.equals(EventRecords.header(record, TwinChanged.DELTA_HEADER))) {
            return Uni.createFrom().voidItem();
        }
        TwinChanged change = EventRecords.read(record, EventTypes.TWIN_CHANGED, TwinChanged.class, json, e -> {
            metrics.counter("doppel.commands.status.rejected", "reason", "malformed-twin-change").increment();
            LOG.warnf("rejected malformed twin change at partition %d offset %d", record.partition(), record.offset());
        });
        if (change == null || change.thingId() == null) {
            return Uni.createFrom().voidItem();
        }
        return push.onTwinChanged(change)
                .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8);
    }
}

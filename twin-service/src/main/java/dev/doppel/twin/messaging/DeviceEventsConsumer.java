package dev.doppel.twin.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.support.messaging.EventRecords;
import dev.doppel.contracts.ThingId;
import dev.doppel.twin.model.TwinPath;
import dev.doppel.twin.service.TwinEdits;
import dev.doppel.twin.service.TwinService;
import dev.doppel.twin.service.TwinService.ValidReport;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * What the registry and the adapters say about devices, reflected in their twins: a registered
 * device gets an (empty) twin, a removed one loses it, and connection changes show as the
 * {@code connectivity} feature ({@code status} connected/disconnected, {@code since}), ordered by
 * their time like any reported value.
 */
@ApplicationScoped
public class DeviceEventsConsumer {

    private static final Logger LOG = Logger.getLogger(DeviceEventsConsumer.class);
    public static final String CONNECTIVITY = "connectivity";

    private final TwinService twins;
    private final TwinEdits edits;
    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public DeviceEventsConsumer(TwinService twins, TwinEdits edits, ObjectMapper json, MeterRegistry metrics) {
        this.twins = twins;
        this.edits = edits;
        this.json = json;
        this.metrics = metrics;
    }

    @Incoming("device-events")
    public Uni<Void> consume(ConsumerRecord<String, byte[]> record) {
        String type = EventRecords.type(record);
        try {
            if (EventTypes.DEVICE_LIFECYCLE_CHANGED.equals(type)) {
                return lifecycle(json.readValue(record.value(), DeviceLifecycleChanged.class));
            }
            if (EventTypes.DEVICE_CONNECTION_CHANGED.equals(type)) {
                return connection(json.readValue(record.value(), DeviceConnectionChanged.class));
            }
            return Uni.createFrom().voidItem();
        } catch (java.io.IOException | RuntimeException e) {
            metrics.counter("doppel.twin.reports.rejected", "reason", "malformed-event").increment();
            LOG.warnf("rejected device event at partition %d offset %d: %s", record.partition(), record.offset(),
                    e.getClass().getSimpleName());
            return Uni.createFrom().voidItem();
        }
    }

    private Uni<Void> lifecycle(DeviceLifecycleChanged e) {
        ThingId id = ThingId.parse(e.thingId());
        Uni<?> done = e.registered()
                // Create only if absent: an existing twin (reports arrived first) is left as it is.
                ? edits.edit(id, TwinPath.THING, TwinEdits.Edit.PUT, new LinkedHashMap<>(Map.of()),
                        new TwinEdits.Conditions(null, "*"))
                        .onFailure(TwinEdits.PreconditionFailed.class).recoverWithNull()
                : edits.edit(id, TwinPath.THING, TwinEdits.Edit.DELETE, null, null)
                        .onFailure(TwinEdits.NotFound.class).recoverWithNull();
        return done.onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8)
                .replaceWithVoid();
    }

    private Uni<Void> connection(DeviceConnectionChanged e) {
        ThingId id = ThingId.parse(e.thingId());
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("status", e.connected() ? "connected" : "disconnected");
        status.put("since", e.at().toString());
        status.put("transport", e.transport());
        ValidReport report = new ValidReport(id, Map.of(CONNECTIVITY, status), Map.of(), e.at(), e.eventId());
        return twins.apply(id, List.of(report), Context.current())
                .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8)
                .replaceWithVoid();
    }
}

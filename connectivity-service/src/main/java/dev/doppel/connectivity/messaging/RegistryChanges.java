package dev.doppel.connectivity.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.RegistryChanged;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.messaging.EventRecords;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Registry changes, as every instance hears them ({@code dt.registry-changes}, the instance that took
 * the change included): the registry answers and payload mappings kept here are forgotten at once
 * (before, another instance's change counted here only once they expired), and the change is handed
 * on ({@link RegistryChanged} as a CDI event) to the adapters that hold connections, which end those
 * that would not be let in now.
 */
@ApplicationScoped
public class RegistryChanges {

    private static final Logger LOG = Logger.getLogger(RegistryChanges.class);

    private final DeviceRegistry registry;
    private final PayloadMappings mappings;
    private final Event<RegistryChanged> changed;
    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public RegistryChanges(DeviceRegistry registry, PayloadMappings mappings, Event<RegistryChanged> changed,
            ObjectMapper json, MeterRegistry metrics) {
        this.registry = registry;
        this.mappings = mappings;
        this.changed = changed;
        this.json = json;
        this.metrics = metrics;
    }

    @Incoming("registry-changes")
    public void consume(ConsumerRecord<String, byte[]> record) {
        RegistryChanged change = EventRecords.read(record, EventTypes.REGISTRY_CHANGED, RegistryChanged.class, json,
                e -> {
                    metrics.counter("doppel.registry.changes", "outcome", "malformed").increment();
                    LOG.warnf("skipped malformed registry change at partition %d offset %d: %s", record.partition(),
                            record.offset(), e.getClass().getSimpleName());
                });
        if (change == null || change.tenant() == null || change.what() == null) {
            return;
        }
        try {
            registry.forgetKeptAnswers();
            if (change.thingId() != null) {
                mappings.forget(ThingId.parse(change.thingId()));
            }
            changed.fire(change);
            metrics.counter("doppel.registry.changes", "outcome", change.what()).increment();
        } catch (RuntimeException e) {
            metrics.counter("doppel.registry.changes", "outcome", "failed").increment();
            LOG.warnf("could not apply registry change %s of %s: %s", change.what(),
                    change.thingId() != null ? change.thingId() : change.tenant(), e.toString());
        }
    }
}

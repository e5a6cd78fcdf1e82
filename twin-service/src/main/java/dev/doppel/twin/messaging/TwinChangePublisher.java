package dev.doppel.twin.messaging;

import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TwinChanged;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.TracingMetadata;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Publishes twin changes on {@code dt.twin-changes}, keyed by thing id, as CloudEvents whose id is
 * the change's event id (a change published again keeps its id, so consumers can drop the repeat).
 * The change continues the given trace (the REST request, or the write of a device report).
 */
@ApplicationScoped
public class TwinChangePublisher {

    private final MutinyEmitter<TwinChanged> emitter;

    public TwinChangePublisher(@Channel("twin-changes") MutinyEmitter<TwinChanged> emitter) {
        this.emitter = emitter;
    }

    /** Completes when the broker acknowledged the change. */
    public Uni<Void> publish(TwinChanged change, Context trace) {
        return emitter.sendMessage(Message.of(change)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(change.thingId()).build())
                .addMetadata(OutgoingCloudEventMetadata.builder()
                        .withId(change.eventId())
                        .withType(EventTypes.TWIN_CHANGED)
                        .withSubject(change.thingId())
                        .build())
                .addMetadata(TracingMetadata.withCurrent(trace)));
    }
}

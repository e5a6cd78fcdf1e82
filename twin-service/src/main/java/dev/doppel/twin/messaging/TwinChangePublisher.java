package dev.doppel.twin.messaging;

import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TwinChanged;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Publishes twin changes on {@code dt.twin-changes}, keyed by thing id, as CloudEvents. */
@ApplicationScoped
public class TwinChangePublisher {

    private final MutinyEmitter<TwinChanged> emitter;

    public TwinChangePublisher(@Channel("twin-changes") MutinyEmitter<TwinChanged> emitter) {
        this.emitter = emitter;
    }

    /** Completes when the broker acknowledged the change. */
    public Uni<Void> publish(TwinChanged change) {
        return emitter.sendMessage(Message.of(change)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(change.thingId()).build())
                .addMetadata(OutgoingCloudEventMetadata.builder()
                        .withId(change.eventId())
                        .withType(EventTypes.TWIN_CHANGED)
                        .withSubject(change.thingId())
                        .build()));
    }
}

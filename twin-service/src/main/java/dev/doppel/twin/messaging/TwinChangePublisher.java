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
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Publishes twin changes on {@code dt.twin-changes}, keyed by thing id, as CloudEvents whose id is
 * the change's event id (a change published again keeps its id, so consumers can drop the repeat).
 * The change continues the given trace (the REST request, or the write of a device report). A change
 * that left the twin's delta as it was says so in a header ({@link TwinChanged#DELTA_HEADER}), so that
 * command-service's desired-state consumer passes it over unread: with no desired state in a fleet,
 * that is every change (before, each cost it a parse and a store read).
 */
@ApplicationScoped
public class TwinChangePublisher {

    private static final byte[] UNCHANGED = TwinChanged.DELTA_UNCHANGED.getBytes(StandardCharsets.UTF_8);

    private final MutinyEmitter<TwinChanged> emitter;

    public TwinChangePublisher(@Channel("twin-changes") MutinyEmitter<TwinChanged> emitter) {
        this.emitter = emitter;
    }

    /** Completes when the broker acknowledged the change. */
    public Uni<Void> publish(TwinChanged change, boolean deltaUnchanged, Context trace) {
        var kafka = OutgoingKafkaRecordMetadata.<String>builder().withKey(change.thingId());
        if (deltaUnchanged) {
            // A new Headers each time: the producer makes a record's headers read-only when it sends it.
            kafka.withHeaders(new RecordHeaders(new RecordHeader[] {new RecordHeader(TwinChanged.DELTA_HEADER, UNCHANGED)}));
        }
        return emitter.sendMessage(Message.of(change)
                .addMetadata(kafka.build())
                .addMetadata(OutgoingCloudEventMetadata.builder()
                        .withId(change.eventId())
                        .withType(EventTypes.TWIN_CHANGED)
                        .withSubject(change.thingId())
                        .build())
                .addMetadata(TracingMetadata.withCurrent(trace)));
    }
}

package dev.doppel.twin.messaging;

import dev.doppel.contracts.TwinChanged;
import dev.doppel.support.messaging.EventMessages;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.TracingMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeader;
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
        Message<TwinChanged> message = deltaUnchanged
                ? EventMessages.of(change, null, new RecordHeader(TwinChanged.DELTA_HEADER, UNCHANGED))
                : EventMessages.of(change);
        return emitter.sendMessage(message.addMetadata(TracingMetadata.withCurrent(trace)));
    }
}

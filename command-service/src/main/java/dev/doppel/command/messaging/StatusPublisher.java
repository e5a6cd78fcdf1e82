package dev.doppel.command.messaging;

import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.EventTypes;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Publishes the steps command-service itself decides (QUEUED, EXPIRED, TIMED_OUT, CANCELLED) on
 * {@code dt.command-status}, beside the steps connectivity reports, so every transition is an event.
 */
@ApplicationScoped
public class StatusPublisher {

    private final MutinyEmitter<CommandStatusChanged> emitter;

    public StatusPublisher(@Channel("command-status-out") MutinyEmitter<CommandStatusChanged> emitter) {
        this.emitter = emitter;
    }

    public Uni<Void> publish(CommandStatusChanged status) {
        return emitter.sendMessage(Message.of(status)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(status.thingId()).build())
                .addMetadata(OutgoingCloudEventMetadata.builder()
                        .withId(status.eventId())
                        .withType(EventTypes.COMMAND_STATUS_CHANGED)
                        .withSubject(status.thingId())
                        .build()));
    }
}

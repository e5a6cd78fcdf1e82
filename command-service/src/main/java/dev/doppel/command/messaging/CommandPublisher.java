package dev.doppel.command.messaging;

import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.EventTypes;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Publishes commands on {@code dt.commands}, keyed by thing id so one device's commands keep their order. */
@ApplicationScoped
public class CommandPublisher {

    private final MutinyEmitter<CommandRequested> emitter;

    public CommandPublisher(@Channel("commands") MutinyEmitter<CommandRequested> emitter) {
        this.emitter = emitter;
    }

    public Uni<Void> publish(CommandRequested command) {
        return emitter.sendMessage(Message.of(command)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(command.thingId()).build())
                .addMetadata(OutgoingCloudEventMetadata.builder()
                        .withId(command.commandId())
                        .withType(EventTypes.COMMAND_REQUESTED)
                        .withSubject(command.thingId())
                        .build()));
    }
}

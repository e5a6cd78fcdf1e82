package dev.doppel.command.messaging;

import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.Topics;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Publishes commands on {@code dt.commands}, keyed by thing id so one device's commands keep their order. */
@ApplicationScoped
public class CommandPublisher {

    private final MutinyEmitter<CommandRequested> emitter;

    public CommandPublisher(@Channel("commands") MutinyEmitter<CommandRequested> emitter) {
        this.emitter = emitter;
    }

    /**
     * @param first whether this is the command's first publication (connectivity then knows that no
     *              device can have it yet), not a repeat for a device that connected
     */
    public Uni<Void> publish(CommandRequested command, boolean first) {
        var kafka = OutgoingKafkaRecordMetadata.<String>builder().withKey(command.thingId());
        if (first) {
            kafka.withHeaders(new RecordHeaders().add(Topics.FIRST_PUBLICATION_HEADER, new byte[] {'1'}));
        }
        return emitter.sendMessage(Message.of(command)
                .addMetadata(kafka.build())
                .addMetadata(OutgoingCloudEventMetadata.builder()
                        .withId(command.commandId())
                        .withType(EventTypes.COMMAND_REQUESTED)
                        .withSubject(command.thingId())
                        .build()));
    }
}

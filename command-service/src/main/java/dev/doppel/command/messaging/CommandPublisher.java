package dev.doppel.command.messaging;

import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.Topics;
import dev.doppel.support.messaging.EventMessages;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.reactive.messaging.Channel;

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
        return emitter.sendMessage(first
                ? EventMessages.of(command, null, new RecordHeader(Topics.FIRST_PUBLICATION_HEADER, new byte[] {'1'}))
                : EventMessages.of(command));
    }
}

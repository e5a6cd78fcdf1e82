package dev.doppel.command.messaging;

import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.support.messaging.EventMessages;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;

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
        return emitter.sendMessage(EventMessages.of(status));
    }
}

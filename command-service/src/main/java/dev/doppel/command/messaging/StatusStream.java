package dev.doppel.command.messaging;

import dev.doppel.contracts.CommandStatusChanged;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;
import jakarta.enterprise.context.ApplicationScoped;

/** Every command status event this instance reads, for live subscribers (GraphQL). */
@ApplicationScoped
public class StatusStream {

    private final BroadcastProcessor<CommandStatusChanged> statuses = BroadcastProcessor.create();

    void emit(CommandStatusChanged status) {
        statuses.onNext(status);
    }

    /** Events from now on; a slow subscriber loses the oldest rather than holding the others back. */
    public Multi<CommandStatusChanged> stream() {
        return statuses.onOverflow().drop();
    }
}

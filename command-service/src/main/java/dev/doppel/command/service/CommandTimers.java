package dev.doppel.command.service;

import dev.doppel.command.model.Command;
import dev.doppel.command.repository.CommandRepository;
import dev.doppel.contracts.CommandStatus;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * The commands' timers, kept in MongoDB ({@code dueAt}) rather than in memory: every replica looks
 * for commands whose time has run out, and each is ended exactly once (the step is conditional).
 * After a restart, even kill -9, nothing is left waiting forever.
 */
@ApplicationScoped
public class CommandTimers {

    private static final Logger LOG = Logger.getLogger(CommandTimers.class);
    private static final int BATCH = 500;

    private final CommandRepository repository;
    private final CommandService commands;

    public CommandTimers(CommandRepository repository, CommandService commands) {
        this.repository = repository;
        this.commands = commands;
    }

    @Scheduled(every = "${doppel.commands.sweep-interval:1s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> sweep() {
        return expireDue(Instant.now()).onFailure().invoke(t -> LOG.warnf("command timers: %s", t.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /** Ends every command whose timer ran out by {@code now}; returns how many it ended. */
    public Uni<Integer> expireDue(Instant now) {
        return repository.due(now, BATCH).chain(due -> Multi.createFrom().iterable(due)
                .onItem().transformToUniAndConcatenate(this::end)
                .filter(Boolean::booleanValue).collect().asList().map(java.util.List::size));
    }

    private Uni<Boolean> end(Command c) {
        if (c.status() == CommandStatus.DELIVERED) {
            return commands.finish(c, CommandStatus.TIMED_OUT, "no answer in time");
        }
        if (c.expiresAt() != null) {
            return commands.finish(c, CommandStatus.EXPIRED, "not delivered within its ttl");
        }
        return commands.finish(c, CommandStatus.TIMED_OUT, "no answer in time");
    }
}

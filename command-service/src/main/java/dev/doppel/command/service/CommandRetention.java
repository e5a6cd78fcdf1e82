package dev.doppel.command.service;

import dev.doppel.command.config.CommandConfig;
import dev.doppel.command.repository.CommandRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * Removes commands that ended longer ago than {@code doppel.commands.retention}: finished commands
 * are history, and a store that keeps every command ever sent makes each query that is not served
 * by an index slower for ever. Every replica runs it; deleting twice is harmless.
 */
@ApplicationScoped
public class CommandRetention {

    private static final Logger LOG = Logger.getLogger(CommandRetention.class);

    private final CommandRepository repository;
    private final CommandConfig config;
    private final Counter removed;

    public CommandRetention(CommandRepository repository, CommandConfig config, MeterRegistry metrics) {
        this.repository = repository;
        this.config = config;
        this.removed = Counter.builder("doppel.commands.removed")
                .description("Ended commands removed after the retention").register(metrics);
    }

    @Scheduled(every = "${doppel.commands.retention-interval:10m}", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        return removeEndedBefore(Instant.now().minus(config.retention()))
                .onFailure().invoke(t -> LOG.warnf("command retention: %s", t.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /** Removes the commands that ended before {@code cutoff}; returns how many went. */
    public Uni<Long> removeEndedBefore(Instant cutoff) {
        return repository.removeEnded(cutoff).invoke(n -> {
            if (n > 0) {
                removed.increment(n);
                LOG.infof("removed %d commands that ended before %s", n, cutoff);
            }
        });
    }
}

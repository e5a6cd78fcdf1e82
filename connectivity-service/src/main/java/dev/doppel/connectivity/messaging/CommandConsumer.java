package dev.doppel.connectivity.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.EventTypes;
import dev.doppel.support.messaging.EventRecords;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/** Takes commands from {@code dt.commands} and hands them to the device's connection. */
@ApplicationScoped
public class CommandConsumer {

    private static final Logger LOG = Logger.getLogger(CommandConsumer.class);

    private final CommandRouter router;
    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public CommandConsumer(CommandRouter router, ObjectMapper json, MeterRegistry metrics) {
        this.router = router;
        this.json = json;
        this.metrics = metrics;
    }

    @Incoming("commands")
    public Uni<Void> consume(ConsumerRecord<String, byte[]> record) {
        CommandRequested command = EventRecords.read(record, EventTypes.COMMAND_REQUESTED, CommandRequested.class,
                json, e -> {
                    metrics.counter("doppel.commands.rejected", "reason", "malformed-event").increment();
                    LOG.warnf("rejected malformed command record at partition %d offset %d: %s", record.partition(),
                            record.offset(), e.getClass().getSimpleName());
                });
        if (command == null) {
            return Uni.createFrom().voidItem();
        }
        try {
            return router.route(command).onFailure().recoverWithUni(t -> failed(command, t));
        } catch (RuntimeException e) {
            return failed(command, e);
        }
    }

    /** A command that could not be routed is logged and counted; the channel keeps serving the others. */
    private Uni<Void> failed(CommandRequested command, Throwable t) {
        metrics.counter("doppel.commands.rejected", "reason", "routing-failed").increment();
        LOG.errorf(t, "could not route command %s for %s", command.commandId(), command.thingId());
        return Uni.createFrom().voidItem();
    }

    @Scheduled(every = "30s")
    void evict() {
        router.evictExpired();
    }
}

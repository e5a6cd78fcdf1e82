package dev.doppel.connectivity.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.DeviceSessions;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.EventTypes;
import dev.doppel.support.messaging.EventRecords;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Takes commands from {@code dt.commands} (the partitions this instance owns) and from
 * {@code dt.command-routes} (those handed to it) and gives them to the device's connection.
 */
@ApplicationScoped
public class CommandConsumer {

    private static final Logger LOG = Logger.getLogger(CommandConsumer.class);

    private final CommandRouter router;
    private final ObjectMapper json;
    private final MeterRegistry metrics;
    private final DeviceSessions sessions;

    public CommandConsumer(CommandRouter router, ObjectMapper json, MeterRegistry metrics, DeviceSessions sessions) {
        this.router = router;
        this.json = json;
        this.metrics = metrics;
        this.sessions = sessions;
    }

    @Incoming("commands")
    public Uni<Void> consume(ConsumerRecord<String, byte[]> record) {
        return routeSafely(read(record), router::route);
    }

    /** Commands other instances handed over; each instance reads them all and takes those for itself. */
    @Incoming("command-routes")
    public Uni<Void> consumeHandedOver(ConsumerRecord<String, byte[]> record) {
        if (!sessions.instance().equals(EventRecords.header(record, KafkaDownstreamSender.ROUTE_TO))) {
            return Uni.createFrom().voidItem();
        }
        return routeSafely(read(record), router::routeHandedOver);
    }

    /** A command that cannot be routed is logged and counted, and the channel goes on with the next. */
    private Uni<Void> routeSafely(CommandRequested command, Function<CommandRequested, Uni<Void>> route) {
        if (command == null) {
            return Uni.createFrom().voidItem();
        }
        try {
            return route.apply(command).onFailure().recoverWithUni(t -> failed(command, t));
        } catch (RuntimeException e) {
            return failed(command, e);
        }
    }

    private CommandRequested read(ConsumerRecord<String, byte[]> record) {
        return EventRecords.read(record, EventTypes.COMMAND_REQUESTED, CommandRequested.class,
                json, e -> {
                    metrics.counter("doppel.commands.rejected", "reason", "malformed-event").increment();
                    LOG.warnf("rejected malformed command record at partition %d offset %d: %s", record.partition(),
                            record.offset(), e.getClass().getSimpleName());
                });
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

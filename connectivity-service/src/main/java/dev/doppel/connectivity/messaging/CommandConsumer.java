package dev.doppel.connectivity.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.DeviceSessions;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.Topics;
import dev.doppel.support.messaging.EventRecords;
import dev.doppel.support.messaging.KeyedBatch;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Identifier;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.Function;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Takes commands from {@code dt.commands} (the partitions this instance owns) and from
 * {@code dt.command-routes} (those handed to it) and gives them to the device's connection. Both
 * read batches: one device's commands in their order, different devices at once ({@link KeyedBatch}).
 */
@ApplicationScoped
public class CommandConsumer {

    private static final Logger LOG = Logger.getLogger(CommandConsumer.class);
    private static final int DEVICES_AT_ONCE = 64;

    private final CommandRouter router;
    private final ObjectMapper json;
    private final MeterRegistry metrics;
    private final DeviceSessions sessions;
    private final CommandPartitions partitions;

    public CommandConsumer(CommandRouter router, ObjectMapper json, MeterRegistry metrics, DeviceSessions sessions,
            @Identifier(CommandPartitions.NAME) CommandPartitions partitions) {
        this.partitions = partitions;
        this.router = router;
        this.json = json;
        this.metrics = metrics;
        this.sessions = sessions;
    }

    @Incoming("commands")
    public Uni<Void> consume(ConsumerRecords<String, byte[]> records) {
        List<Received> commands = new ArrayList<>(records.count());
        for (ConsumerRecord<String, byte[]> record : records) {
            CommandRequested command = read(record);
            if (command != null) {
                commands.add(new Received(command, mayBeDeliveredAlready(record)));
            }
        }
        return KeyedBatch.process(commands, r -> r.command().thingId(),
                r -> routeSafely(r.command(), c -> router.route(c, r.maybeDelivered())), DEVICES_AT_ONCE);
    }

    private record Received(CommandRequested command, boolean maybeDelivered) {
    }

    /**
     * Whether a device may have had this record's command already: when it is published again for a
     * device that connected, or when the record may have been read before (a replay after a restart
     * or a rebalance). Only then is the store of acknowledged commands asked.
     */
    private boolean mayBeDeliveredAlready(ConsumerRecord<String, byte[]> record) {
        return EventRecords.header(record, Topics.FIRST_PUBLICATION_HEADER) == null
                || partitions.mayHaveBeenReadBefore(record);
    }

    /** Commands other instances handed over; each instance reads them all and takes those for itself. */
    @Incoming("command-routes")
    public Uni<Void> consumeHandedOver(ConsumerRecords<String, byte[]> records) {
        return KeyedBatch.process(handedOver(records), CommandRequested::thingId,
                c -> routeSafely(c, router::routeHandedOver), DEVICES_AT_ONCE);
    }

    /** The batch's commands for this instance; malformed ones counted and left out. */
    private List<CommandRequested> handedOver(ConsumerRecords<String, byte[]> records) {
        List<CommandRequested> commands = new ArrayList<>(records.count());
        for (ConsumerRecord<String, byte[]> record : records) {
            if (!sessions.instance().equals(EventRecords.header(record, KafkaDownstreamSender.ROUTE_TO))) {
                continue;
            }
            CommandRequested command = read(record);
            if (command != null) {
                commands.add(command);
            }
        }
        return commands;
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

package dev.doppel.command.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.service.CommandService;
import dev.doppel.command.service.DesiredStatePush;
import dev.doppel.command.service.PendingAnswers;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.support.messaging.EventRecords;
import dev.doppel.support.messaging.KeyedBatch;
import dev.doppel.support.vertx.CallerContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Reads {@code dt.command-status} twice: once in the service's shared consumer group, so every
 * status is recorded exactly by one replica even after downtime; and once in a group of this
 * instance alone, so that a caller waiting on this instance hears the outcome whichever replica
 * recorded it. Recording is idempotent, so reading twice is harmless.
 *
 * <p>Both read batches: the statuses of one command in their order, different commands at once
 * ({@link KeyedBatch}), and a command's statuses of one batch are recorded with one store write, so a
 * round trip per status no longer caps how many commands per second end. A synchronous command
 * answered on this instance takes two store writes: its insert, and its end with the steps before it
 * ({@link #recordUnlessAnswered}).
 */
@ApplicationScoped
public class CommandStatusConsumer {

    private static final Logger LOG = Logger.getLogger(CommandStatusConsumer.class);
    private static final int COMMANDS_AT_ONCE = 64;
    /** How long an end waits for the live consumer to answer its caller before it is recorded here anyway. */
    private static final Duration ANSWER_GRACE = Duration.ofSeconds(2);

    private final CommandService commands;
    private final DesiredStatePush desired;
    private final PendingAnswers pending;
    private final StatusStream live;
    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public CommandStatusConsumer(CommandService commands, DesiredStatePush desired, PendingAnswers pending,
            StatusStream live, ObjectMapper json, MeterRegistry metrics) {
        this.live = live;
        this.commands = commands;
        this.desired = desired;
        this.pending = pending;
        this.json = json;
        this.metrics = metrics;
    }

    @Incoming("command-status")
    public Uni<Void> record(ConsumerRecords<String, byte[]> records) {
        return KeyedBatch.processGroups(parse(records), CommandStatusChanged::commandId, this::record,
                COMMANDS_AT_ONCE);
    }

    /** One command's statuses of a batch: recorded with one write, then the desired state moves on. */
    private Uni<Void> record(List<CommandStatusChanged> statuses) {
        return recordUnlessAnswered(statuses).chain(() -> Multi.createFrom().iterable(statuses)
                .onItem().transformToUniAndConcatenate(status -> desired.onStatus(status)
                        .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8))
                .collect().last().replaceWithVoid());
    }

    /**
     * The steps of a command a caller here waits for are recorded with its end, by the write that
     * answers the caller ({@link #notifyWaiting}) or times it out: such a command was sent without a
     * TTL, so until its deadline (when the caller gives up and its timer would end it alike) the stored
     * QUEUED changes nothing. Its end is recorded here too, but only once the caller's wait is over
     * (the live consumer has the same record in hand, so briefly): then the copy the answer's write
     * left shows nothing is missing, and no second write is made. Were this instance killed first, the
     * end's offset is not committed, and whichever replica reads it next records it.
     */
    private Uni<Void> recordUnlessAnswered(List<CommandStatusChanged> statuses) {
        CompletableFuture<Void> waitOver = pending.waitOver(statuses.get(0).commandId());
        if (waitOver == null) {
            return recordWithRetry(statuses);
        }
        if (statuses.stream().noneMatch(s -> s.status().isTerminal())) {
            return Uni.createFrom().voidItem();
        }
        return Uni.createFrom().completionStage(waitOver).ifNoItem().after(ANSWER_GRACE).recoverWithItem((Void) null)
                .emitOn(CallerContext.current())
                .chain(() -> recordWithRetry(statuses));
    }

    @Incoming("command-status-live")
    public Uni<Void> notifyWaiting(ConsumerRecords<String, byte[]> records) {
        return KeyedBatch.processGroups(parse(records), CommandStatusChanged::commandId, this::notifyWaiting,
                COMMANDS_AT_ONCE);
    }

    /**
     * One command's statuses of a batch: each goes to the live streams; the end of a command a caller
     * here waits for is recorded, together with the steps heard before it (one write, and the shared
     * consumer then finds nothing left to do), and then answers the caller. Recording first means a
     * caller who reads the command after the answer sees the outcome.
     */
    private Uni<Void> notifyWaiting(List<CommandStatusChanged> statuses) {
        CommandStatusChanged end = null;
        for (CommandStatusChanged status : statuses) {
            live.emit(status);
            if (end == null && pending.isWaiting(status.commandId())) {
                if (status.status().isTerminal()) {
                    end = status;
                } else {
                    pending.heard(status);
                }
            }
        }
        if (end == null) {
            return Uni.createFrom().voidItem();
        }
        CommandStatusChanged answer = end;
        List<CommandStatusChanged> steps = new ArrayList<>(pending.heardSteps(answer.commandId()));
        steps.add(answer);
        return recordWithRetry(steps).invoke(() -> pending.complete(answer));
    }

    private Uni<Void> recordWithRetry(List<CommandStatusChanged> statuses) {
        if (statuses.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return commands.record(statuses.get(0).commandId(), statuses).onFailure().retry()
                .withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8);
    }

    private List<CommandStatusChanged> parse(ConsumerRecords<String, byte[]> records) {
        List<CommandStatusChanged> statuses = new ArrayList<>(records.count());
        for (ConsumerRecord<String, byte[]> record : records) {
            CommandStatusChanged status = parse(record);
            if (status != null) {
                statuses.add(status);
            }
        }
        return statuses;
    }

    private CommandStatusChanged parse(ConsumerRecord<String, byte[]> record) {
        CommandStatusChanged s = EventRecords.read(record, EventTypes.COMMAND_STATUS_CHANGED,
                CommandStatusChanged.class, json, e -> rejected(record, e.getMessage()));
        if (s != null && (s.commandId() == null || s.status() == null)) {
            rejected(record, "commandId and status are required");
            return null;
        }
        return s;
    }

    private void rejected(ConsumerRecord<String, byte[]> record, String why) {
        metrics.counter("doppel.commands.status.rejected", "reason", "malformed-event").increment();
        LOG.warnf("rejected malformed status record at partition %d offset %d: %s", record.partition(),
                record.offset(), why);
    }
}

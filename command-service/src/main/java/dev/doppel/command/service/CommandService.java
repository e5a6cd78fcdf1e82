package dev.doppel.command.service;

import dev.doppel.command.config.CommandConfig;
import dev.doppel.command.messaging.CommandPublisher;
import dev.doppel.command.messaging.StatusPublisher;
import dev.doppel.command.model.Command;
import dev.doppel.command.repository.CommandRepository;
import dev.doppel.command.repository.CommandRepository.Step;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.vertx.CallerContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;

/**
 * Stores commands, hands them to the devices' side, and follows each to its outcome. A command may
 * wait for an offline device up to its TTL: it stays QUEUED, and is published again, in submission
 * order, when the device connects. Its timers (expiry, answer deadline) live in MongoDB as
 * {@code dueAt}, so a restart loses none (see {@link CommandTimers}).
 */
@ApplicationScoped
public class CommandService {

    public static final String SOURCE = "command-service";

    private final CommandRepository repository;
    private final CommandPublisher publisher;
    private final StatusPublisher statuses;
    private final PendingAnswers pending;
    private final CommandConfig config;
    private final java.util.Map<CommandStatus, Timer> latencyTimers = new java.util.concurrent.ConcurrentHashMap<>();
    private final MeterRegistry metrics;

    public CommandService(CommandRepository repository, CommandPublisher publisher, StatusPublisher statuses,
            PendingAnswers pending, CommandConfig config, MeterRegistry metrics) {
        this.repository = repository;
        this.publisher = publisher;
        this.statuses = statuses;
        this.pending = pending;
        this.config = config;
        this.metrics = metrics;
    }

    /**
     * What a caller asks for.
     *
     * @param ttl how long the command may wait for the device to connect; zero: deliver now or fail
     */
    public record Request(String thingId, String subject, String contentType, byte[] payload, Duration timeout,
            Duration ttl, boolean responseRequired) {
    }

    /** What became of a command a caller waited for. */
    public record Outcome(Command command, CommandStatusChanged finalStatus) {
        public boolean timedOut() {
            return finalStatus == null;
        }
    }

    /** A command submitted with an idempotency key: the first request creates it, repeats get it back. */
    public record Submitted(Command command, boolean created) {
    }

    /** Stores the command as QUEUED and publishes it; the broker has it when the Uni completes. */
    public Uni<Command> submit(Request request) {
        return checkQueue(request).chain(() -> {
            Command command = newCommand(request);
            return repository.insert(command).chain(() -> queued(command)).replaceWith(command);
        });
    }

    public Uni<Submitted> submitOnce(Request request, String idempotencyKey) {
        if (idempotencyKey == null) {
            return submit(request).map(c -> new Submitted(c, true));
        }
        return repository.findByIdempotencyKey(idempotencyKey).chain(existing -> {
            if (existing.isPresent()) {
                return Uni.createFrom().item(new Submitted(existing.get(), false));
            }
            return checkQueue(request).chain(() -> {
                Command command = newCommand(request);
                return repository.insertOnce(command, idempotencyKey).chain(inserted -> inserted
                        ? queued(command).replaceWith(new Submitted(command, true))
                        // Another request with the same key won the race: answer with its command.
                        : repository.findByIdempotencyKey(idempotencyKey)
                                .map(c -> new Submitted(c.orElseThrow(), false)));
            });
        });
    }

    /** A device's queue is bounded: one that never connects cannot pile up commands without end. */
    private Uni<Void> checkQueue(Request request) {
        if (request.ttl().isZero()) {
            return Uni.createFrom().voidItem();
        }
        return repository.countWaiting(request.thingId()).invoke(n -> {
            if (n >= config.maxQueuedPerDevice()) {
                metrics.counter("doppel.commands.rejected", "reason", "queue-full").increment();
                throw new ProblemException(Problem.of("queue-full", "Too many queued commands", 429,
                        "device " + request.thingId() + " has " + n + " commands waiting (at most "
                                + config.maxQueuedPerDevice() + "); retry when it has taken some",
                        null));
            }
        }).replaceWithVoid();
    }

    /** Announces the new command's first step and hands it to the devices' side. */
    private Uni<Void> queued(Command c) {
        return statuses.publish(status(c, CommandStatus.QUEUED, null, c.createdAt()))
                .chain(() -> publish(c, true))
                .invoke(() -> metrics.counter("doppel.commands.submitted").increment());
    }

    private Uni<Void> publish(Command c, boolean first) {
        return publisher.publish(new CommandRequested(c.id(), c.thingId(), c.subject(), c.contentType(), c.payload(),
                c.responseRequired(), c.createdAt(), c.deadline(), c.expiresAt()), first);
    }

    private static Command newCommand(Request r) {
        Instant now = Instant.now();
        Instant expiresAt = r.ttl().isZero() ? null : now.plus(r.ttl());
        Instant deadline = (expiresAt == null ? now : expiresAt).plus(r.timeout());
        return new Command(UUID.randomUUID().toString(), r.thingId(), r.subject(), r.contentType(), r.payload(),
                r.responseRequired(), r.timeout(), r.ttl(), expiresAt, now, deadline, CommandStatus.QUEUED,
                List.of(new Command.StatusEntry(CommandStatus.QUEUED, now, null)), null);
    }

    public Uni<List<Command>> list(java.util.Set<String> tenants, String thingId, CommandStatus status,
            Instant since, int limit) {
        return repository.list(tenants, thingId, status == null ? null : status.name(), since, limit);
    }

    /**
     * Submits a command and waits up to its timeout for the device's answer. On timeout the command is
     * recorded as TIMED_OUT (unless an answer raced in) and the outcome has no final status.
     */
    public Uni<Outcome> sendAndAwait(Request request) {
        String[] id = new String[1];
        return Uni.createFrom().deferred(() -> {
            // The answer comes on a status consumer's thread, a timeout on a timer's: go on on the caller's.
            Executor caller = CallerContext.current();
            Command command = newCommand(request);
            id[0] = command.id();
            var answer = pending.expect(command.id());
            return repository.insert(command).chain(() -> queued(command))
                    .chain(() -> Uni.createFrom().completionStage(answer))
                    .ifNoItem().after(request.timeout()).recoverWithItem(() -> null)
                    .emitOn(caller)
                    .chain(status -> status != null
                            ? Uni.createFrom().item(new Outcome(command, status))
                            : timeOut(command));
        }).onTermination().invoke(() -> {
            if (id[0] != null) {
                pending.forget(id[0]);
            }
        });
    }

    private Uni<Outcome> timeOut(Command command) {
        // The steps heard on the way were held for the end's write (CommandStatusConsumer): this is it.
        return record(command.id(), pending.heardSteps(command.id()))
                .chain(() -> finish(command, CommandStatus.TIMED_OUT, "no answer in time")).chain(moved -> {
            if (moved) {
                return Uni.createFrom().item(new Outcome(command, null));
            }
            // An answer was recorded just before the deadline: report it rather than a timeout.
            return repository.find(command.id()).map(c -> c
                    .filter(x -> x.response() != null)
                    .map(x -> new Outcome(x, new CommandStatusChanged(null, x.id(), x.thingId(), x.status(),
                            x.response().statusCode(), null, x.response().contentType(),
                            x.response().payload(), Instant.now(), SOURCE)))
                    .orElse(new Outcome(command, null)));
        });
    }

    /**
     * Ends a command that is still open with a step command-service decides (EXPIRED, TIMED_OUT),
     * and announces it; says whether it ended it (another replica or the device may have been first).
     */
    public Uni<Boolean> finish(Command command, CommandStatus status, String reason) {
        Instant now = Instant.now();
        return repository.end(command.id(), status, now, reason).call(moved -> {
            if (moved.isEmpty()) {
                return Uni.createFrom().voidItem();
            }
            ended(command, status, now);
            CommandStatusChanged event = status(command, status, reason, now);
            pending.complete(event);
            return statuses.publish(event);
        }).map(Optional::isPresent);
    }

    /**
     * Cancels a command that its device has not acknowledged yet.
     *
     * @return the command as it is now, and whether this call cancelled it
     */
    public Uni<Optional<Submitted>> cancel(String id) {
        Instant now = Instant.now();
        return repository.endFrom(id, List.of(CommandStatus.QUEUED, CommandStatus.SENT), CommandStatus.CANCELLED,
                now, "cancelled by request")
                .chain(cancelled -> {
                    if (cancelled.isEmpty()) {
                        return repository.find(id).map(found -> found.map(c -> new Submitted(c, false)));
                    }
                    Command c = cancelled.get();
                    ended(c, CommandStatus.CANCELLED, now);
                    CommandStatusChanged event = status(c, CommandStatus.CANCELLED, "cancelled by request", now);
                    pending.complete(event);
                    return statuses.publish(event).replaceWith(Optional.of(new Submitted(c, true)));
                });
    }

    /** The device can take commands again: its waiting ones go out, oldest first. */
    public Uni<Integer> dispatchWaiting(String thingId) {
        return repository.waiting(thingId, Instant.now()).chain(waiting -> Multi.createFrom().iterable(waiting)
                .onItem().transformToUniAndConcatenate(c -> publish(c, false))
                .collect().asList()
                .invoke(sent -> metrics.counter("doppel.commands.redispatched").increment(sent.size()))
                .map(List::size));
    }

    public Uni<Optional<Command>> find(String id) {
        return repository.find(id);
    }

    /**
     * Records status events from the devices' side for one command, in their order, with at most one
     * store write; redeliveries and stale steps change nothing. Statuses command-service published
     * itself (QUEUED, the ends it decides) were stored by the step that published them and are passed over.
     */
    public Uni<Void> record(String commandId, List<CommandStatusChanged> statuses) {
        List<Step> steps = statuses.stream().filter(s -> !SOURCE.equals(s.source())).map(s -> new Step(s.status(), s.at() == null ? Instant.now() : s.at(),
                s.reason(), s.statusCode() != null && s.status().isTerminal()
                        ? new Command.Response(s.statusCode(), s.contentType(), s.payload())
                        : null))
                .toList();
        if (steps.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return repository.record(commandId, steps).invoke(ended -> ended.ifPresent(c -> steps.stream()
                .filter(s -> s.status() == c.status()).findFirst().ifPresent(s -> ended(c, s.status(), s.at()))))
                .replaceWithVoid();
    }

    /** Counts a command's end and times it from submission ({@code doppel.commands.latency} by status). */
    private void ended(Command command, CommandStatus status, Instant at) {
        metrics.counter("doppel.commands.outcome", "status", status.name()).increment();
        if (command.createdAt() != null && !at.isBefore(command.createdAt())) {
            latencyTimers.computeIfAbsent(status, st -> Timer.builder("doppel.commands.latency")
                    .tag("status", st.name()).publishPercentileHistogram().register(metrics))
                    .record(Duration.between(command.createdAt(), at));
        }
    }

    private static CommandStatusChanged status(Command c, CommandStatus status, String reason, Instant at) {
        return new CommandStatusChanged(UUID.randomUUID().toString(), c.id(), c.thingId(), status, null, reason, null,
                null, at, SOURCE);
    }
}

package dev.doppel.command.service;

import dev.doppel.command.messaging.CommandPublisher;
import dev.doppel.command.model.Command;
import dev.doppel.command.repository.CommandRepository;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Stores commands, hands them to the devices' side, and follows each to its outcome. */
@ApplicationScoped
public class CommandService {

    private final CommandRepository repository;
    private final CommandPublisher publisher;
    private final PendingAnswers pending;
    private final MeterRegistry metrics;

    public CommandService(CommandRepository repository, CommandPublisher publisher, PendingAnswers pending,
            MeterRegistry metrics) {
        this.repository = repository;
        this.publisher = publisher;
        this.pending = pending;
        this.metrics = metrics;
    }

    /** What became of a command a caller waited for. */
    public record Outcome(Command command, CommandStatusChanged finalStatus) {
        public boolean timedOut() {
            return finalStatus == null;
        }
    }

    /** Stores the command as QUEUED and publishes it; the broker has it when the Uni completes. */
    public Uni<Command> submit(String thingId, String subject, String contentType, byte[] payload, Duration timeout,
            boolean responseRequired) {
        Command command = newCommand(thingId, subject, contentType, payload, timeout, responseRequired);
        return storeAndPublish(command).replaceWith(command);
    }

    /** A command submitted with an idempotency key: the first request creates it, repeats get it back. */
    public record Submitted(Command command, boolean created) {
    }

    public Uni<Submitted> submitOnce(String thingId, String subject, String contentType, byte[] payload,
            Duration timeout, String idempotencyKey) {
        if (idempotencyKey == null) {
            return submit(thingId, subject, contentType, payload, timeout, true).map(c -> new Submitted(c, true));
        }
        return repository.findByIdempotencyKey(idempotencyKey).chain(existing -> {
            if (existing.isPresent()) {
                return Uni.createFrom().item(new Submitted(existing.get(), false));
            }
            Command command = newCommand(thingId, subject, contentType, payload, timeout, true);
            return repository.insertOnce(command, idempotencyKey).chain(inserted -> inserted
                    ? publish(command).replaceWith(new Submitted(command, true))
                    // Another request with the same key won the race: answer with its command.
                    : repository.findByIdempotencyKey(idempotencyKey)
                            .map(c -> new Submitted(c.orElseThrow(), false)));
        });
    }

    public Uni<List<Command>> list(java.util.Set<String> tenants, String thingId, CommandStatus status,
            Instant since, int limit) {
        return repository.list(tenants, thingId, status == null ? null : status.name(), since, limit);
    }

    private Uni<Void> publish(Command c) {
        return publisher.publish(new CommandRequested(c.id(), c.thingId(), c.subject(), c.contentType(), c.payload(),
                c.responseRequired(), c.createdAt(), c.deadline()))
                .invoke(() -> metrics.counter("doppel.commands.submitted").increment());
    }

    private static Command newCommand(String thingId, String subject, String contentType, byte[] payload,
            Duration timeout, boolean responseRequired) {
        Instant now = Instant.now();
        return new Command(UUID.randomUUID().toString(), thingId, subject, contentType, payload, responseRequired,
                timeout, now, now.plus(timeout), CommandStatus.QUEUED,
                List.of(new Command.StatusEntry(CommandStatus.QUEUED, now, null)), null);
    }

    private Uni<Void> storeAndPublish(Command c) {
        return repository.insert(c).chain(() -> publish(c));
    }

    /**
     * Submits a command and waits up to its timeout for the device's answer. On timeout the command is
     * recorded as TIMED_OUT (unless an answer raced in) and the outcome has no final status.
     */
    public Uni<Outcome> sendAndAwait(String thingId, String subject, String contentType, byte[] payload,
            Duration timeout) {
        String[] id = new String[1];
        return Uni.createFrom().deferred(() -> {
            Command command = newCommand(thingId, subject, contentType, payload, timeout, true);
            id[0] = command.id();
            var answer = pending.expect(command.id());
            return storeAndPublish(command)
                    .chain(() -> Uni.createFrom().completionStage(answer))
                    .ifNoItem().after(timeout).recoverWithItem(() -> null)
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
        return repository.advance(command.id(), CommandStatus.TIMED_OUT, Instant.now(), "no answer in time", null)
                .chain(moved -> {
                    metrics.counter("doppel.commands.outcome", "status", "TIMED_OUT").increment();
                    if (moved) {
                        return Uni.createFrom().item(new Outcome(command, null));
                    }
                    // An answer was recorded just before the deadline: report it rather than a timeout.
                    return repository.find(command.id()).map(c -> c
                            .filter(x -> x.response() != null)
                            .map(x -> new Outcome(x, new CommandStatusChanged(null, x.id(), x.thingId(), x.status(),
                                    x.response().statusCode(), null, x.response().contentType(),
                                    x.response().payload(), Instant.now(), "command-service")))
                            .orElse(new Outcome(command, null)));
                });
    }

    public Uni<Optional<Command>> find(String id) {
        return repository.find(id);
    }

    /** Records a status event from the devices' side; redeliveries and stale steps change nothing. */
    public Uni<Void> record(CommandStatusChanged status) {
        Command.Response response = status.statusCode() != null && status.status().isTerminal()
                ? new Command.Response(status.statusCode(), status.contentType(), status.payload())
                : null;
        return repository.advance(status.commandId(), status.status(), status.at() == null ? Instant.now() : status.at(),
                status.reason(), response)
                .invoke(moved -> {
                    if (moved && status.status().isTerminal()) {
                        metrics.counter("doppel.commands.outcome", "status", status.status().name()).increment();
                    }
                })
                .replaceWithVoid();
    }
}

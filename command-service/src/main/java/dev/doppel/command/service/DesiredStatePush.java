package dev.doppel.command.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.config.CommandConfig;
import dev.doppel.command.model.Command;
import dev.doppel.command.repository.CommandRepository;
import dev.doppel.command.repository.DesiredRepository;
import dev.doppel.command.repository.DesiredRepository.Desired;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.support.rest.ProblemException;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Carries a twin's desired state to its device: when twin-service reports a delta (desired values the
 * device has not reached), the device gets it as a command with subject {@value #SUBJECT} and body
 * {@code {"revision": n, "features": {feature: {property: value}}}}. One such command is in flight per
 * device. A newer delta replaces the body of one still queued (so an offline device gets only the
 * latest), or follows once the device acknowledged the one before (or Hono or a fleet's broker took it,
 * which is all those report). When the device has caught up (the delta is empty), a queued one is
 * cancelled.
 */
@ApplicationScoped
public class DesiredStatePush {

    public static final String SUBJECT = "dt.desired";
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(DesiredStatePush.class);

    private final DesiredRepository desired;
    private final CommandRepository commandStore;
    private final CommandService commands;
    private final CommandConfig config;
    private final ObjectMapper json;

    public DesiredStatePush(DesiredRepository desired, CommandRepository commandStore, CommandService commands,
            CommandConfig config, ObjectMapper json) {
        this.desired = desired;
        this.commandStore = commandStore;
        this.commands = commands;
        this.config = config;
        this.json = json;
    }

    /** A twin changed: keep its latest delta and move it towards the device. */
    public Uni<Void> onTwinChanged(TwinChanged change) {
        Map<String, Object> delta = change.delta() == null ? Map.of() : change.delta();
        return desired.find(change.thingId()).chain(stored -> {
            if (stored.isPresent() && (change.revision() <= stored.get().revision()
                    || delta.equals(stored.get().delta()))) {
                return Uni.createFrom().voidItem(); // stale, redelivered, or the same delta as before
            }
            if (stored.isEmpty() && delta.isEmpty()) {
                return Uni.createFrom().voidItem();
            }
            return desired.saveDelta(change.thingId(), change.revision(), delta)
                    .chain(saved -> saved ? pump(change.thingId()) : Uni.createFrom().voidItem());
        });
    }

    /**
     * A command changed state: if it was this device's desired-state command and is done, send the next.
     * A command known to have another subject never was one, so its device's desired state is not read.
     */
    public Uni<Void> onStatus(CommandStatusChanged status) {
        boolean done = status.status() == CommandStatus.DELIVERED || status.status().isTerminal()
                || status.status() == CommandStatus.SENT && CommandStatusChanged.HANDED_OFF.equals(status.reason());
        if (!done || status.thingId() == null
                || commandStore.knownSubject(status.commandId()).filter(s -> !SUBJECT.equals(s)).isPresent()) {
            return Uni.createFrom().voidItem();
        }
        return desired.find(status.thingId()).chain(d -> d.isPresent() && status.commandId().equals(d.get().commandId())
                ? pump(status.thingId()) : Uni.createFrom().voidItem());
    }

    private Uni<Void> pump(String thingId) {
        return desired.find(thingId).chain(found -> {
            if (found.isEmpty()) {
                return Uni.createFrom().voidItem();
            }
            Desired d = found.get();
            Uni<Optional<Command>> current = d.commandId() == null ? Uni.createFrom().item(Optional.empty())
                    : commandStore.find(d.commandId());
            return current.chain(c -> {
                CommandStatus status = c.map(Command::status).orElse(null);
                if (status == CommandStatus.QUEUED) {
                    // Not sent yet: it carries the latest delta instead, or nothing is left to do.
                    if (d.delta().isEmpty()) {
                        return commandStore.endFrom(d.commandId(), List.of(CommandStatus.QUEUED),
                                CommandStatus.CANCELLED, Instant.now(), "device reached the desired state")
                                .replaceWithVoid();
                    }
                    return commandStore.replacePayload(d.commandId(), body(d))
                            .chain(replaced -> replaced ? desired.setCommandRevision(thingId, d.commandId(), d.revision())
                                    : pump(thingId)); // it was sent meanwhile: decide again
                }
                if (status == CommandStatus.SENT && !handedOff(c.get())) {
                    return Uni.createFrom().voidItem(); // onStatus sends the next when the device acknowledged it
                }
                // Handed off to Hono or a fleet's broker: no DELIVERED will come, so the next may follow.
                if (d.delta().isEmpty() || d.commandRevision() >= d.revision()) {
                    return Uni.createFrom().voidItem();
                }
                return commands.submit(new CommandService.Request(thingId, SUBJECT, "application/json", body(d),
                        config.defaultTimeout(), config.desiredTtl(), false))
                        .chain(sent -> desired.swapCommand(thingId, d.commandId(), sent.id(), d.revision())
                                .chain(won -> won ? Uni.createFrom().voidItem()
                                        // Another replica sent one at the same moment: keep only one.
                                        : commands.cancel(sent.id()).replaceWithVoid()))
                        // The device's queue is full: the delta stays stored and goes with the next change.
                        .onFailure(ProblemException.class).invoke(e -> LOG.warnf("desired state for %s not sent: %s",
                                thingId, e.getMessage()))
                        .onFailure(ProblemException.class).recoverWithNull().replaceWithVoid();
            });
        });
    }

    private static boolean handedOff(Command c) {
        return c.history().stream().anyMatch(e -> e.status() == CommandStatus.SENT
                && CommandStatusChanged.HANDED_OFF.equals(e.reason()));
    }

    private byte[] body(Desired d) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("revision", d.revision());
        body.put("features", d.delta());
        try {
            return json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

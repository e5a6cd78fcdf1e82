package dev.doppel.connectivity.command;

import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Knows which device is reachable on which connection of this instance, delivers commands there,
 * and remembers which answers it is waiting for, so that a device can only answer its own commands.
 * A command for a device connected to another instance is handed to that instance
 * ({@link DeviceSessions}, {@code dt.command-routes}), so any number of instances share the partitions
 * of {@code dt.commands}.
 */
@ApplicationScoped
public class CommandRouter {

    static final java.time.Duration ACKNOWLEDGED_KEPT = java.time.Duration.ofHours(1);

    /**
     * The connections of this instance that hold each device, the latest first: a device may be held
     * twice (connected itself and behind a gateway, or behind two gateways), and the other holder
     * takes over when the latest lets go.
     */
    private final Map<String, java.util.Deque<CommandSink>> sinks = new ConcurrentHashMap<>();
    private final Map<String, CommandSink> tenantSinks = new ConcurrentHashMap<>();
    private final Map<String, CommandRequested> awaitingResponse = new ConcurrentHashMap<>();
    /** Commands a device acknowledged lately: sent again (after a reconnect), they are not delivered twice. */
    private final Map<String, Instant> acknowledged = new ConcurrentHashMap<>();
    private final DownstreamSender downstream;
    private final AcknowledgedCommands acknowledgedStore;
    private final MeterRegistry metrics;
    private final DeviceSessions sessions;
    private final Clock clock = Clock.systemUTC();

    public CommandRouter(DownstreamSender downstream, AcknowledgedCommands acknowledgedStore, MeterRegistry metrics,
            DeviceSessions sessions) {
        this.downstream = downstream;
        this.acknowledgedStore = acknowledgedStore;
        this.metrics = metrics;
        this.sessions = sessions;
    }

    /**
     * A sink for every device of a tenant whose connections are held elsewhere (a Hono deployment):
     * used when no connection of the device itself is held here.
     */
    public void registerTenant(String tenant, CommandSink sink) {
        tenantSinks.put(tenant, sink);
    }

    public void register(String thingId, CommandSink sink) {
        sinks.compute(thingId, (id, held) -> {
            java.util.Deque<CommandSink> holders = held == null ? new java.util.concurrent.ConcurrentLinkedDeque<>()
                    : held;
            holders.remove(sink);
            holders.addFirst(sink);
            return holders;
        });
        sessions.claim(thingId);
    }

    /**
     * Lets go of a device for one connection. Returns whether no connection of this instance holds it
     * any more: only then is it gone (its {@code ttd=0} is for the caller to announce).
     */
    public boolean unregister(String thingId, CommandSink sink) {
        boolean[] released = {false};
        sinks.computeIfPresent(thingId, (id, holders) -> {
            if (holders.remove(sink) && holders.isEmpty()) {
                released[0] = true;
                return null;
            }
            return holders.isEmpty() ? null : holders;
        });
        if (released[0]) {
            sessions.release(thingId);
        }
        return !sinks.containsKey(thingId);
    }

    /** Whether the device acknowledged this command lately (on this instance, or before its restart once looked up). */
    public boolean wasAcknowledged(String commandId) {
        return acknowledged.containsKey(commandId);
    }

    public boolean isReachable(String thingId) {
        return sinks.containsKey(thingId);
    }

    /**
     * Routes a command to its device, or reports at once that the device is not connected.
     *
     * @param maybeDelivered whether a device may have had it already (a replay, a command published again):
     *                       then the acknowledged commands of earlier runs and other instances are looked up
     */
    public Uni<Void> route(CommandRequested command, boolean maybeDelivered) {
        return route(command, true, maybeDelivered);
    }

    /** A command another instance handed here because the device is connected here; not handed on again. */
    public Uni<Void> routeHandedOver(CommandRequested command) {
        return route(command, false, true);
    }

    private Uni<Void> route(CommandRequested command, boolean mayHandOver, boolean maybeDelivered) {
        Instant now = clock.instant();
        if (command.deadline() != null && now.isAfter(command.deadline())
                || command.expiresAt() != null && !command.mayWait(now)) {
            metrics.counter("doppel.commands.routed", "outcome", "expired", "transport", "none").increment();
            return Uni.createFrom().voidItem();
        }
        if (acknowledged.containsKey(command.commandId())) {
            metrics.counter("doppel.commands.routed", "outcome", "duplicate", "transport", "none").increment();
            return Uni.createFrom().voidItem();
        }
        // Also those acknowledged before a restart of this instance, or on another instance.
        Uni<Boolean> acknowledgedElsewhere = maybeDelivered ? acknowledgedStore.contains(command.commandId())
                : Uni.createFrom().item(false);
        return acknowledgedElsewhere.chain(seen -> {
            if (seen) {
                acknowledged.put(command.commandId(), now);
                metrics.counter("doppel.commands.routed", "outcome", "duplicate", "transport", "none").increment();
                return Uni.createFrom().voidItem();
            }
            java.util.Deque<CommandSink> holders = sinks.get(command.thingId());
            CommandSink sink = holders == null ? null : holders.peekFirst();
            if (sink == null && !tenantSinks.isEmpty()) {
                sink = tenantSinks.get(command.thingId().substring(0, Math.max(0, command.thingId().indexOf(':'))));
            }
            if (sink != null && !sink.ready()) {
                // Held here, but the device does not answer now: it waits as if offline.
                return deliver(command, null, now);
            }
            if (sink != null || !mayHandOver) {
                return deliver(command, sink, now);
            }
            return sessions.heldElsewhere(command.thingId()).chain(holder -> {
                if (holder.isPresent()) {
                    metrics.counter("doppel.commands.routed", "outcome", "handed-over", "transport", "none").increment();
                    return downstream.handOver(holder.get(), command);
                }
                return deliver(command, null, now);
            });
        });
    }

    private Uni<Void> deliver(CommandRequested command, CommandSink sink, Instant now) {
        if (sink == null && command.mayWait(now)) {
            // It stays queued in command-service, which sends it again when the device connects.
            metrics.counter("doppel.commands.routed", "outcome", "queued-offline", "transport", "none").increment();
            return Uni.createFrom().voidItem();
        }
        if (sink == null) {
            metrics.counter("doppel.commands.routed", "outcome", "not-connected", "transport", "none").increment();
            return downstream.commandStatus(new CommandStatusChanged(UUID.randomUUID().toString(),
                    command.commandId(), command.thingId(), CommandStatus.FAILED, 404,
                    CommandStatusChanged.DEVICE_NOT_CONNECTED, "text/plain",
                    ("device " + command.thingId() + " is not connected").getBytes(StandardCharsets.UTF_8), now,
                    "router"));
        }
        if (command.responseRequired()) {
            awaitingResponse.put(command.commandId(), command);
        }
        metrics.counter("doppel.commands.routed", "outcome", "delivered", "transport", sink.transport()).increment();
        sink.deliver(command);
        return Uni.createFrom().voidItem();
    }

    /** Reports a step in delivery (SENT, DELIVERED) seen by a protocol adapter. */
    public Uni<Void> reportStep(CommandRequested command, CommandStatus status, String transport) {
        return reportStep(command, status, null, transport);
    }

    private Uni<Void> reportStep(CommandRequested command, CommandStatus status, String reason, String transport) {
        // The step's time is when it happened, not when its event is written after the store below.
        Instant at = clock.instant();
        Uni<Void> remembered = Uni.createFrom().voidItem();
        if (status == CommandStatus.DELIVERED) {
            acknowledged.put(command.commandId(), at);
            remembered = acknowledgedStore.mark(command.commandId(), at);
        }
        return remembered.chain(() -> downstream.commandStatus(new CommandStatusChanged(UUID.randomUUID().toString(),
                command.commandId(), command.thingId(), status, null, reason, null, null, at, transport)));
    }

    /**
     * A command another system took over for good (Hono's command API, a fleet's own broker): its
     * {@code SENT}, and never routed again, like an acknowledged one, but without claiming the device
     * has it.
     */
    public Uni<Void> handedOff(CommandRequested command, String transport) {
        Instant at = clock.instant();
        acknowledged.put(command.commandId(), at);
        return acknowledgedStore.mark(command.commandId(), at)
                .chain(() -> reportStep(command, CommandStatus.SENT, CommandStatusChanged.HANDED_OFF, transport));
    }

    /**
     * Takes a device's answer. Returns {@code null} when the request id is not one this device was sent
     * (late, foreign or made up); such answers are dropped.
     */
    public Uni<Void> respond(String thingId, String requestId, int status, String contentType, byte[] payload,
            String transport) {
        CommandRequested command = awaitingResponse.get(requestId);
        if (command == null || !command.thingId().equals(thingId)) {
            return null;
        }
        awaitingResponse.remove(requestId);
        CommandStatus outcome = status >= 200 && status < 300 ? CommandStatus.SUCCEEDED : CommandStatus.FAILED;
        return downstream.commandStatus(new CommandStatusChanged(UUID.randomUUID().toString(), requestId, thingId,
                outcome, status, null, contentType, payload, clock.instant(), transport));
    }

    /** Forgets answers that can no longer be awaited. */
    public void evictExpired() {
        Instant now = clock.instant();
        awaitingResponse.values().removeIf(c -> c.deadline() != null && now.isAfter(c.deadline().plusSeconds(60)));
        acknowledged.values().removeIf(at -> now.isAfter(at.plus(ACKNOWLEDGED_KEPT)));
    }
}

package dev.doppel.connectivity.adapter.modbus;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.DeviceSessions;
import dev.doppel.connectivity.egress.EgressPolicy;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.ThingId;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Polls the Modbus TCP devices that have a poll plan ({@link ModbusPlans}). Each device is polled by
 * one connectivity instance: the one that holds its entry in {@code device_sessions} (a lease, the
 * same one MQTT connections use, so commands for the device are routed to that instance). Every few
 * seconds each instance reconciles: it takes up plans that no live instance polls, and drops devices
 * whose plan changed or went, that were disabled, or whose lease another instance took.
 */
@ApplicationScoped
public class ModbusPoller {

    private static final Logger LOG = Logger.getLogger(ModbusPoller.class);

    private final ModbusPlans plans;
    private final DeviceRegistry registry;
    private final DeviceSessions sessions;
    private final CommandRouter router;
    private final DownstreamSender downstream;
    private final MeterRegistry metrics;
    private final ObjectMapper json;
    private final EgressPolicy egress;
    private final boolean enabled;
    private final Duration timeout;
    private final Duration maxBackoff;
    private final ScheduledExecutorService executor;
    /**
     * Cuts off a request that has taken too long in all (a slave dripping its answer). A thread of its
     * own: the poll threads may be the very ones stuck.
     */
    private final ScheduledExecutorService watchdog;
    private final Map<String, PolledDevice> polled = new ConcurrentHashMap<>();
    private volatile boolean shuttingDown;

    public ModbusPoller(ModbusPlans plans, DeviceRegistry registry, DeviceSessions sessions, CommandRouter router,
            DownstreamSender downstream, MeterRegistry metrics, ObjectMapper json, EgressPolicy egress,
            @ConfigProperty(name = "doppel.modbus.enabled", defaultValue = "true") boolean enabled,
            @ConfigProperty(name = "doppel.modbus.threads", defaultValue = "4") int threads,
            @ConfigProperty(name = "doppel.modbus.timeout", defaultValue = "3s") Duration timeout,
            @ConfigProperty(name = "doppel.modbus.max-backoff", defaultValue = "60s") Duration maxBackoff) {
        this.plans = plans;
        this.registry = registry;
        this.sessions = sessions;
        this.router = router;
        this.downstream = downstream;
        this.metrics = metrics;
        this.json = json;
        this.egress = egress;
        this.enabled = enabled;
        this.timeout = timeout;
        this.maxBackoff = maxBackoff;
        // Modbus I/O blocks: it runs here, never on an event loop.
        this.executor = Executors.newScheduledThreadPool(threads, r -> {
            Thread t = new Thread(r, "modbus-poller");
            t.setDaemon(true);
            return t;
        });
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "modbus-watchdog");
            t.setDaemon(true);
            return t;
        });
    }

    /** Things polled by this instance now. */
    public Set<String> polledHere() {
        return Set.copyOf(polled.keySet());
    }

    @Scheduled(every = "${doppel.modbus.reconcile-every:5s}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> reconcile() {
        if (!enabled || shuttingDown) {
            return Uni.createFrom().voidItem();
        }
        return plans.all().chain(all -> all.isEmpty() && polled.isEmpty() ? Uni.createFrom().voidItem()
                // With no plans (the common case) this is the only query of the tick.
                : registry.enabled(all.keySet()).chain(allowed -> sessions.heldHere()
                .chain(held -> {
                    List<PolledDevice> changed = new ArrayList<>();
                    polled.entrySet().removeIf(e -> {
                        ModbusPlan plan = all.get(e.getKey());
                        boolean ours = plan != null && allowed.contains(e.getKey()) && held.contains(e.getKey());
                        if (ours && plan.equals(e.getValue().plan())) {
                            return false;
                        }
                        if (ours) {
                            changed.add(e.getValue());
                        } else {
                            e.getValue().stop();
                        }
                        return true;
                    });
                    // A new plan: the new poller takes the device over before the old one lets go, so
                    // its session entry is never released and no other instance can claim it between.
                    changed.forEach(old -> {
                        start(old.id(), all.get(old.id().toString()));
                        old.stop();
                    });
                    List<Uni<Void>> starts = new ArrayList<>();
                    all.forEach((thingId, plan) -> {
                        if (!polled.containsKey(thingId) && allowed.contains(thingId)) {
                            starts.add(sessions.tryClaim(thingId).invoke(won -> {
                                if (won) {
                                    start(ThingId.parse(thingId), plan);
                                }
                            }).replaceWithVoid());
                        }
                    });
                    return starts.isEmpty() ? Uni.createFrom().voidItem()
                            : Uni.join().all(starts).andCollectFailures().replaceWithVoid();
                })))
                .onFailure().invoke(f -> LOG.warnf("could not reconcile Modbus devices: %s", f.getMessage()))
                .onFailure().recoverWithNull();
    }

    private void start(ThingId id, ModbusPlan plan) {
        PolledDevice device = new PolledDevice(id, plan, executor, watchdog, router, downstream, metrics, json, egress,
                timeout, maxBackoff);
        if (!shuttingDown && polled.putIfAbsent(id.toString(), device) == null) {
            LOG.infof("polling %s at %s:%d every %d ms", id, plan.host(), plan.port(), plan.periodMs());
            device.start();
        }
    }

    void shutdown(@Observes ShutdownEvent event) {
        shuttingDown = true;
        polled.values().forEach(PolledDevice::stop);
        polled.clear();
        executor.shutdownNow();
        watchdog.shutdownNow();
    }
}

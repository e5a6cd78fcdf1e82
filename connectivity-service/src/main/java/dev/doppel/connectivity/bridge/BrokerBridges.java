package dev.doppel.connectivity.bridge;

import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.egress.EgressPolicy;
import dev.doppel.connectivity.command.DeviceSessions;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.DeviceRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Runs the external broker connections. Each is run by one connectivity instance, the holder of its
 * lease in {@code device_sessions} (entry {@code bridge:{tenant}/{name}}), as Modbus devices are;
 * every few seconds each instance takes up connections nobody runs, and drops those that changed,
 * went, were disabled or were taken over.
 */
@ApplicationScoped
public class BrokerBridges {

    private static final Logger LOG = Logger.getLogger(BrokerBridges.class);

    private final BridgeDefinitions definitions;
    private final DeviceSessions sessions;
    private final Vertx vertx;
    private final DeviceRegistry registry;
    private final PayloadMappings mappings;
    private final DownstreamSender downstream;
    private final CommandRouter router;
    private final MeterRegistry metrics;
    private final EgressPolicy egress;
    private final boolean enabled;
    private final Map<String, BridgeClient> running = new ConcurrentHashMap<>();
    private volatile boolean shuttingDown;

    public BrokerBridges(BridgeDefinitions definitions, DeviceSessions sessions, Vertx vertx, DeviceRegistry registry,
            PayloadMappings mappings, DownstreamSender downstream, CommandRouter router, MeterRegistry metrics,
            EgressPolicy egress, @ConfigProperty(name = "doppel.bridge.enabled", defaultValue = "true") boolean enabled) {
        this.egress = egress;
        this.definitions = definitions;
        this.sessions = sessions;
        this.vertx = vertx;
        this.registry = registry;
        this.mappings = mappings;
        this.downstream = downstream;
        this.router = router;
        this.metrics = metrics;
        this.enabled = enabled;
    }

    /** Whether this instance runs the connection and is connected to its broker now. */
    public boolean isConnectedHere(String tenant, String name) {
        BridgeClient c = running.get(tenant + "/" + name);
        return c != null && c.isConnected();
    }

    @Scheduled(every = "${doppel.bridge.reconcile-every:5s}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> reconcile() {
        if (!enabled || shuttingDown) {
            return Uni.createFrom().voidItem();
        }
        return definitions.all().chain(all -> all.isEmpty() && running.isEmpty() ? Uni.createFrom().voidItem()
                : sessions.heldHere().chain(held -> {
                    running.entrySet().removeIf(e -> {
                        BridgeDefinition wanted = all.get(e.getKey());
                        boolean keep = wanted != null && wanted.isEnabled() && wanted.equals(e.getValue().definition())
                                && held.contains(lease(e.getKey()));
                        if (!keep) {
                            LOG.infof("bridge %s stops here", e.getKey());
                            e.getValue().stop();
                            if (wanted == null || !wanted.isEnabled()) {
                                sessions.release(lease(e.getKey()));
                            }
                        }
                        return !keep;
                    });
                    List<Uni<Void>> starts = new ArrayList<>();
                    all.forEach((key, definition) -> {
                        if (definition.isEnabled() && !running.containsKey(key)) {
                            starts.add(sessions.tryClaim(lease(key)).invoke(won -> {
                                if (won) {
                                    start(key, definition);
                                }
                            }).replaceWithVoid());
                        }
                    });
                    return starts.isEmpty() ? Uni.createFrom().voidItem()
                            : Uni.join().all(starts).andCollectFailures().replaceWithVoid();
                }))
                .onFailure().invoke(f -> LOG.warnf("could not reconcile broker bridges: %s", f.getMessage()))
                .onFailure().recoverWithNull();
    }

    private void start(String key, BridgeDefinition definition) {
        String tenant = key.substring(0, key.indexOf('/'));
        BridgeClient client = new BridgeClient(key, tenant, definition, vertx, registry, mappings, downstream, router,
                metrics, egress);
        if (!shuttingDown && running.putIfAbsent(key, client) == null) {
            LOG.infof("bridge %s runs here: %s", key, definition.uri());
            client.start();
        }
    }

    private static String lease(String key) {
        return "bridge:" + key;
    }

    void shutdown(@Observes ShutdownEvent event) {
        shuttingDown = true;
        running.values().forEach(BridgeClient::stop);
        running.clear();
    }
}

package dev.doppel.connectivity.limits;

import dev.doppel.connectivity.command.DeviceSessions;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.connectivity.registry.DeviceRegistry.Limits;
import dev.doppel.contracts.ThingId;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import dev.doppel.connectivity.config.RegistryConfig;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;

/**
 * A tenant's resource limits, as the adapters apply them: how many MQTT connections its devices may
 * hold at once, over all instances, and how many messages per second one device may send (a token
 * bucket per device and instance, with a burst of one second's worth). Limits are read from the
 * registry and kept for 10 s. Each instance publishes its connection counts per tenant every few
 * seconds ({@code connection_counts}); a CONNECT is admitted when the others' last counts plus this
 * instance's own stay below the limit, so a burst of connections spread over instances can overshoot
 * by what arrived within one publishing period.
 */
@ApplicationScoped
public class DeviceLimits {

    private static final Duration KEPT = Duration.ofSeconds(10);
    private static final int MAX_BUCKETS = 100_000;

    private record Cached(Limits limits, long until) {
    }

    private static final Duration COUNTS_FRESH = Duration.ofSeconds(15);

    private final DeviceRegistry registry;
    private final String instance;
    private final ReactiveMongoCollection<Document> counts;
    private final Map<String, Cached> tenants = new ConcurrentHashMap<>();
    private final Map<ThingId, TokenBucket> buckets = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> connections = new ConcurrentHashMap<>();

    public DeviceLimits(DeviceRegistry registry, DeviceSessions sessions, ReactiveMongoClient mongo,
            RegistryConfig config) {
        this.registry = registry;
        this.instance = sessions.instance();
        this.counts = mongo.getDatabase(config.database()).getCollection("connection_counts");
    }

    private void connected(String tenant) {
        connections.computeIfAbsent(tenant, t -> new AtomicInteger()).incrementAndGet();
    }

    /** An MQTT connection of the tenant closed here. */
    public void disconnected(String tenant) {
        AtomicInteger n = connections.get(tenant);
        if (n != null) {
            n.decrementAndGet();
        }
    }

    @Scheduled(every = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> publishCounts() {
        Date now = new Date();
        List<Uni<Void>> writes = new ArrayList<>();
        connections.forEach((tenant, n) -> {
            String id = instance + "/" + tenant;
            int count = n.get();
            writes.add(count <= 0
                    ? counts.deleteOne(Filters.eq("_id", id)).invoke(() -> connections.remove(tenant, n))
                            .replaceWithVoid()
                    : counts.replaceOne(Filters.eq("_id", id), new Document("_id", id).append("tenant", tenant)
                            .append("instance", instance).append("count", count).append("at", now),
                            new ReplaceOptions().upsert(true)).replaceWithVoid());
        });
        return writes.isEmpty() ? Uni.createFrom().voidItem()
                : Uni.join().all(writes).andCollectFailures().replaceWithVoid().onFailure().recoverWithNull();
    }

    public Uni<Limits> forTenant(String tenant) {
        long now = System.nanoTime();
        Cached c = tenants.get(tenant);
        if (c != null && now - c.until() < 0) {
            return Uni.createFrom().item(c.limits());
        }
        return registry.limits(tenant).invoke(l -> tenants.put(tenant, new Cached(l, now + KEPT.toNanos())));
    }

    /** Forgets a tenant's limits after they changed here (other instances follow within 10 s). */
    public void forget(String tenant) {
        tenants.remove(tenant);
    }

    /**
     * Counts one more MQTT connection of the device's tenant here if the tenant's limit allows it;
     * {@code false} (and nothing counted) if not. A counted connection ends with {@link #disconnected}.
     */
    public Uni<Boolean> reserveConnection(ThingId device, Limits limits) {
        if (limits.maxConnections() == null) {
            connected(device.tenant());
            return Uni.createFrom().item(true);
        }
        Date fresh = Date.from(Instant.now().minus(COUNTS_FRESH));
        return counts.find(Filters.and(Filters.eq("tenant", device.tenant()), Filters.ne("instance", instance),
                Filters.gte("at", fresh))).map(d -> d.getInteger("count", 0)).collect().asList()
                .map(others -> {
                    int elsewhere = others.stream().mapToInt(Integer::intValue).sum();
                    AtomicInteger here = connections.computeIfAbsent(device.tenant(), t -> new AtomicInteger());
                    if (elsewhere + here.incrementAndGet() > limits.maxConnections()) {
                        here.decrementAndGet();
                        return false;
                    }
                    return true;
                });
    }

    /** Takes one message of the device's allowance; {@code false} when it sends faster than allowed. */
    public boolean tryMessage(ThingId device, Limits limits) {
        Double rate = limits.messagesPerSecond();
        if (rate == null) {
            return true;
        }
        if (buckets.size() > MAX_BUCKETS) {
            buckets.clear();
        }
        return buckets.computeIfAbsent(device, d -> new TokenBucket())
                .take(rate, Math.max(1, rate), System.nanoTime()); // a burst of one second's worth
    }
}

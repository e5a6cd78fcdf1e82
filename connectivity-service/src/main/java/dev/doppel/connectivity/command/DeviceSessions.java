package dev.doppel.connectivity.command;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import dev.doppel.connectivity.config.RegistryConfig;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.bson.Document;
import org.jboss.logging.Logger;

/**
 * Which connectivity instance holds each device's command connection, shared by all instances in
 * connectivity's database ({@code device_sessions}). The instance that consumes a command from its
 * Kafka partition may not be the one the device is connected to; this tells it where to hand the
 * command on. Each instance renews the lease of its entries; an instance that died (kill -9) leaves
 * entries whose lease runs out, and those count as no connection.
 */
@ApplicationScoped
public class DeviceSessions {

    private static final Logger LOG = Logger.getLogger(DeviceSessions.class);
    static final Duration RENEW_EVERY = Duration.ofSeconds(10);
    static final Duration LEASE = Duration.ofSeconds(30);

    private final String instance = UUID.randomUUID().toString();
    private final ReactiveMongoCollection<Document> sessions;

    public DeviceSessions(ReactiveMongoClient mongo, RegistryConfig config) {
        this.sessions = mongo.getDatabase(config.database()).getCollection("device_sessions");
    }

    /** This instance's id, as other instances address it. */
    public String instance() {
        return instance;
    }

    /** The device is reachable here now (the newest claim wins when a device reconnects elsewhere). */
    public void claim(String thingId) {
        sessions.replaceOne(Filters.eq("_id", thingId), new Document("_id", thingId).append("instance", instance)
                .append("lease", Date.from(Instant.now())), new ReplaceOptions().upsert(true))
                .subscribe().with(r -> { }, t -> LOG.warnf("could not record the session of %s: %s", thingId,
                        t.getMessage()));
    }

    /**
     * Claims the device only if no other live instance holds it (for connections this instance makes
     * itself, like Modbus polling, where exactly one instance should). {@code false} if another holds it.
     */
    public Uni<Boolean> tryClaim(String thingId) {
        Date now = Date.from(Instant.now());
        Date stale = Date.from(Instant.now().minus(LEASE));
        return sessions.updateOne(Filters.and(Filters.eq("_id", thingId),
                        Filters.or(Filters.eq("instance", instance), Filters.lt("lease", stale))),
                        Updates.combine(Updates.set("instance", instance), Updates.set("lease", now)),
                        new UpdateOptions().upsert(true))
                .replaceWith(true)
                // No match means another live instance holds it; the upsert then collides with its entry.
                .onFailure(t -> t instanceof MongoWriteException w
                        && w.getError().getCategory() == ErrorCategory.DUPLICATE_KEY).recoverWithItem(false);
    }

    /** The devices whose entry names this instance now. */
    public Uni<Set<String>> heldHere() {
        return sessions.find(Filters.eq("instance", instance)).map(d -> d.getString("_id")).collect()
                .in(HashSet::new, Set::add);
    }

    /** The device left this instance; a claim another instance made meanwhile stays. */
    public void release(String thingId) {
        sessions.deleteOne(Filters.and(Filters.eq("_id", thingId), Filters.eq("instance", instance)))
                .subscribe().with(r -> { }, t -> LOG.debugf("could not remove the session of %s: %s", thingId,
                        t.getMessage()));
    }

    /** The other live instance that holds the device's connection, if any. */
    public Uni<Optional<String>> heldElsewhere(String thingId) {
        Date fresh = Date.from(Instant.now().minus(LEASE));
        return sessions.find(Filters.and(Filters.eq("_id", thingId), Filters.ne("instance", instance),
                Filters.gte("lease", fresh))).collect().first()
                .map(d -> Optional.ofNullable(d).map(x -> x.getString("instance")));
    }

    @Scheduled(every = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> renew() {
        return sessions.updateMany(Filters.eq("instance", instance), Updates.set("lease", Date.from(Instant.now())))
                .replaceWithVoid().onFailure().recoverWithNull();
    }
}

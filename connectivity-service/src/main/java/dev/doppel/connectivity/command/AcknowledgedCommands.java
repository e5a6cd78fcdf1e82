package dev.doppel.connectivity.command;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import dev.doppel.connectivity.config.RegistryConfig;
import io.quarkus.mongodb.FindOptions;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bson.Document;

/**
 * Commands a device acknowledged lately, kept in connectivity's own database so that a restart (even
 * kill -9, which loses the consumer's uncommitted offsets and makes Kafka hand the same commands
 * again) never delivers an acknowledged command a second time.
 */
@ApplicationScoped
public class AcknowledgedCommands {

    /** Longer than any command may wait plus its timeout would matter for a replay. */
    static final Duration KEPT = Duration.ofHours(1);

    private final ReactiveMongoCollection<Document> acknowledged;

    public AcknowledgedCommands(ReactiveMongoClient mongo, RegistryConfig config) {
        this.acknowledged = mongo.getDatabase(config.database()).getCollection("acknowledged_commands");
    }

    public Uni<Void> mark(String commandId, Instant at) {
        return acknowledged.replaceOne(Filters.eq("_id", commandId),
                new Document("_id", commandId).append("at", Date.from(at)), new ReplaceOptions().upsert(true))
                .replaceWithVoid();
    }

    /** A find by {@code _id} (a count is an aggregation, which the stand-in answers by scanning every entry). */
    public Uni<Boolean> contains(String commandId) {
        return acknowledged.find(Filters.eq("_id", commandId), new FindOptions().projection(new Document("_id", 1)).limit(1))
                .collect().first().map(d -> d != null);
    }

    /** The MongoDB stand-in ignores TTL indexes: old entries are removed here. */
    @Scheduled(every = "10m", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> forgetOld() {
        return acknowledged.deleteMany(Filters.lt("at", Date.from(Instant.now().minus(KEPT)))).replaceWithVoid()
                .onFailure().recoverWithNull();
    }
}

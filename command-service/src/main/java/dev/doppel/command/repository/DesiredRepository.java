package dev.doppel.command.repository;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import dev.doppel.command.config.CommandConfig;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;

/**
 * The {@code desired} collection: per thing, the latest delta twin-service reported (desired values the
 * device has not reached) and the {@code dt.desired} command that carries it to the device.
 */
@ApplicationScoped
public class DesiredRepository {

    /**
     * @param revision        twin revision the delta belongs to
     * @param commandId       the command that carries (or carried) a delta to the device, or null
     * @param commandRevision the twin revision that command's delta belongs to
     */
    public record Desired(String thingId, long revision, Map<String, Object> delta, String commandId,
            long commandRevision) {
    }

    private final ReactiveMongoCollection<Document> desired;

    public DesiredRepository(ReactiveMongoClient mongo, CommandConfig config) {
        this.desired = mongo.getDatabase(config.database()).getCollection("desired");
    }

    public Uni<Optional<Desired>> find(String thingId) {
        return desired.find(Filters.eq("_id", thingId)).collect().first().map(d -> Optional.ofNullable(d).map(x ->
                new Desired(x.getString("_id"), x.get("revision", Number.class).longValue(),
                        x.get("delta", Document.class), x.getString("commandId"),
                        x.get("commandRevision") instanceof Number n ? n.longValue() : 0L)));
    }

    /** Stores a newer delta; says whether it was newer than the one stored. */
    public Uni<Boolean> saveDelta(String thingId, long revision, Map<String, Object> delta) {
        return desired.updateOne(Filters.and(Filters.eq("_id", thingId), Filters.lt("revision", revision)),
                Updates.combine(Updates.set("revision", revision), Updates.set("delta", new Document(delta))))
                .chain(r -> r.getModifiedCount() == 1 ? Uni.createFrom().item(true)
                        : desired.insertOne(new Document("_id", thingId).append("revision", revision)
                                .append("delta", new Document(delta))).replaceWith(true)
                                .onFailure(t -> t instanceof com.mongodb.MongoWriteException).recoverWithItem(false));
    }

    /**
     * Records the command that now carries the delta, only if the one recorded is still
     * {@code expected}: of two replicas pumping at once, one wins.
     */
    public Uni<Boolean> swapCommand(String thingId, String expected, String commandId, long commandRevision) {
        return desired.updateOne(Filters.and(Filters.eq("_id", thingId), Filters.eq("commandId", expected)),
                Updates.combine(Updates.set("commandId", commandId), Updates.set("commandRevision", commandRevision)))
                .map(r -> r.getModifiedCount() == 1);
    }

    public Uni<Void> setCommandRevision(String thingId, String commandId, long commandRevision) {
        return desired.updateOne(Filters.and(Filters.eq("_id", thingId), Filters.eq("commandId", commandId)),
                Updates.set("commandRevision", commandRevision)).replaceWithVoid();
    }
}

package dev.doppel.twin.repository;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.InsertOneModel;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.WriteModel;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.store.Queries;
import dev.doppel.twin.mapping.TwinDocumentMapper;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.Twin;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.bson.Document;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The {@code twins} collection. Writes are single-document and conditional on the revision that was
 * read (optimistic concurrency), which is atomic on MongoDB and on the stand-in alike. Each write
 * carries its {@link Outbox} in the same document, so what it owes is stored exactly when it happens.
 */
@ApplicationScoped
public class TwinRepository {

    private final ReactiveMongoCollection<Document> twins;
    private final RecentTwins recent;

    public TwinRepository(ReactiveMongoClient mongo,
            @ConfigProperty(name = "doppel.twin.database", defaultValue = "doppel-twins") String database,
            @ConfigProperty(name = "doppel.twin.recent-copies", defaultValue = "1000") int recentCopies) {
        this.twins = mongo.getDatabase(database).getCollection("twins");
        this.recent = new RecentTwins(recentCopies);
    }

    /**
     * Declared indexes: tenant (every query is scoped to tenants), modification time (sorting, sync),
     * and id with revision for the conditional writes. That last one adds nothing to uniqueness; it
     * is there because the stand-in serves a filter from an index only when the filter's keys are
     * exactly a unique index's keys, and without it every conditional write scanned the collection.
     */
    public Uni<Void> ensureIndexes() {
        return twins.createIndex(Indexes.ascending("_id", "_revision"),
                        new IndexOptions().name("id_revision").unique(true))
                .chain(() -> twins.createIndex(Indexes.ascending("tenant", "_id"), new IndexOptions().name("tenant_id")))
                .chain(() -> twins.createIndex(Indexes.ascending("tenant", "_modified"),
                        new IndexOptions().name("tenant_modified")))
                .replaceWithVoid();
    }

    public Uni<Optional<Twin>> find(ThingId id) {
        return twins.find(Filters.eq("_id", id.toString())).collect().first()
                .map(doc -> Optional.ofNullable(doc).map(TwinDocumentMapper::fromDocument));
    }

    /** A twin as read for a write: the twin and the outbox its last write left. */
    public record Stored(Twin twin, Optional<Outbox> outbox) {
    }

    public Uni<Optional<Stored>> findForWrite(ThingId id) {
        return twins.find(Filters.eq("_id", id.toString())).collect().first()
                .map(doc -> Optional.ofNullable(doc).map(TwinRepository::stored));
    }

    /** The twins among {@code ids} that exist, as read for a write, by thing id: one query for a whole batch. */
    public Uni<Map<String, Stored>> findAllForWrite(Collection<ThingId> ids) {
        return readAll(ids);
    }

    /**
     * {@link #findAllForWrite}, but the twins this instance wrote last come from its copies
     * ({@link RecentTwins}) and only the others from the store. For device reports, whose merge keeps
     * only newer values: a copy another writer made stale fails its conditional write, and the twin is
     * then read and written alone. Not for API edits, whose preconditions must be judged on the store.
     */
    public Uni<Map<String, Stored>> findAllFromCopies(Collection<ThingId> ids) {
        Map<String, Stored> found = new HashMap<>();
        List<ThingId> missing = new ArrayList<>();
        for (ThingId id : ids) {
            Document copy = recent.get(id.toString());
            if (copy != null) {
                found.put(id.toString(), stored(copy));
            } else {
                missing.add(id);
            }
        }
        if (missing.isEmpty()) {
            return Uni.createFrom().item(found);
        }
        return readAll(missing).map(read -> {
            found.putAll(read);
            return found;
        });
    }

    /** The twins among {@code ids} as the store has them. */
    private Uni<Map<String, Stored>> readAll(Collection<ThingId> ids) {
        return twins.find(Filters.in("_id", ids.stream().map(ThingId::toString).toList())).collect().asList()
                .map(docs -> {
                    Map<String, Stored> found = new HashMap<>();
                    for (Document d : docs) {
                        found.put(d.getString("_id"), stored(d));
                    }
                    return found;
                });
    }

    /**
     * One conditional write of a batch: the twin with its outbox, replacing the revision that was read,
     * or inserted when {@code expectedRevision} is null (the twin did not exist).
     */
    public record Write(Twin twin, Long expectedRevision, Outbox outbox) {
    }

    /**
     * What a write does to this instance's copy of the twin ({@link RecentTwins}): device reports keep
     * a copy of what they wrote, since the twin's next reports start from it; API edits, whose next
     * read is always the store's, drop it (a deep copy per edit only fed the collector).
     */
    public enum Copy { KEEP, DROP }

    /**
     * Writes a batch of twins with one bulk write (unordered; each replace filtered on exactly the keys of
     * index id_revision, so the stand-in serves each from it). Returns the thing ids that were written;
     * the others lost a race (another writer changed or created the twin after it was read). The bulk
     * result only counts matches, so when some are missing the batch's twins are read again to tell
     * which writes are in: those that hold this write's revision and outbox.
     */
    public Uni<Set<String>> writeAll(List<Write> writes, Copy copy) {
        List<WriteModel<Document>> models = new ArrayList<>(writes.size());
        List<Document> docs = new ArrayList<>(writes.size());
        for (Write w : writes) {
            Document doc = TwinDocumentMapper.toDocument(w.twin(), w.outbox());
            docs.add(doc);
            models.add(w.expectedRevision() == null ? new InsertOneModel<>(doc)
                    : new ReplaceOneModel<>(atRevision(w.twin().thingId(), w.expectedRevision()), doc));
        }
        return twins.bulkWrite(models, new BulkWriteOptions().ordered(false))
                .map(r -> r.getInsertedCount() + r.getMatchedCount())
                .onFailure(TwinRepository::onlyDuplicateKeys)
                .recoverWithItem(-1)
                .chain(done -> done == writes.size()
                        ? Uni.createFrom().item(writes.stream().map(w -> w.twin().thingId().toString())
                                .collect(Collectors.toSet()))
                        : whichAreIn(writes))
                .invoke(written -> {
                    for (int i = 0; i < writes.size(); i++) {
                        remember(writes.get(i).twin().thingId(), copy == Copy.KEEP && written.contains(
                                writes.get(i).twin().thingId().toString()), docs.get(i));
                    }
                });
    }

    /** Keeps a copy of what a write left, or forgets the twin (the write lost a race, or keeps none). */
    private void remember(ThingId id, boolean keep, Document doc) {
        if (keep) {
            recent.written(id.toString(), doc);
        } else {
            recent.forget(id.toString());
        }
    }

    private Uni<Set<String>> whichAreIn(List<Write> writes) {
        return readAll(writes.stream().map(w -> w.twin().thingId()).toList()).map(found -> {
            Set<String> in = new HashSet<>();
            for (Write w : writes) {
                Stored s = found.get(w.twin().thingId().toString());
                if (s != null && s.twin().revision() == w.twin().revision()
                        && s.outbox().map(o -> o.id().equals(w.outbox().id())).orElse(false)) {
                    in.add(w.twin().thingId().toString());
                }
            }
            return in;
        });
    }

    private static Stored stored(Document d) {
        return new Stored(TwinDocumentMapper.fromDocument(d), TwinDocumentMapper.outboxOf(d));
    }

    /** Inserts a new twin with its outbox; {@code false} if another writer created it first. */
    public Uni<Boolean> insert(Twin twin, Outbox outbox, Copy copy) {
        Document doc = TwinDocumentMapper.toDocument(twin, outbox);
        return twins.insertOne(doc).replaceWith(true)
                .onFailure(TwinRepository::isDuplicateKey).recoverWithItem(false)
                .invoke(written -> remember(twin.thingId(), copy == Copy.KEEP && written, doc));
    }

    /**
     * Replaces the twin (and its outbox) if it still has {@code expectedRevision}; {@code false} if
     * someone else wrote first.
     */
    public Uni<Boolean> replace(Twin twin, long expectedRevision, Outbox outbox, Copy copy) {
        Document doc = TwinDocumentMapper.toDocument(twin, outbox);
        return twins.replaceOne(atRevision(twin.thingId(), expectedRevision), doc)
                .map(r -> r.getMatchedCount() == 1)
                .invoke(written -> remember(twin.thingId(), copy == Copy.KEEP && written, doc));
    }

    /** Deletes the twin if it still has {@code expectedRevision}. */
    public Uni<Boolean> delete(ThingId id, long expectedRevision) {
        recent.forget(id.toString());
        return twins.deleteOne(atRevision(id, expectedRevision))
                .map(r -> r.getDeletedCount() == 1);
    }

    /** A flat filter (not {@code $and}) on exactly the keys of index id_revision, so the store serves it from that index. */
    private static Document atRevision(ThingId id, long revision) {
        return new Document("_id", id.toString()).append("_revision", revision);
    }

    /** The twins among {@code ids} that exist, in no particular order. */
    public Uni<java.util.List<Twin>> findAll(java.util.List<ThingId> ids) {
        return twins.find(Filters.in("_id", ids.stream().map(ThingId::toString).toList())).collect().asList()
                .map(docs -> docs.stream().map(TwinDocumentMapper::fromDocument).toList());
    }

    public Uni<java.util.List<Twin>> search(org.bson.conversions.Bson filter, org.bson.conversions.Bson sort, int skip,
            int limit) {
        return twins.find(filter, new io.quarkus.mongodb.FindOptions().sort(sort).skip(skip).limit(limit).maxTime(Queries.maxTimeMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)).collect().asList()
                .map(docs -> docs.stream().map(TwinDocumentMapper::fromDocument).toList());
    }

    public Uni<Long> count(org.bson.conversions.Bson filter) {
        return twins.countDocuments(filter, new com.mongodb.client.model.CountOptions().maxTime(Queries.maxTimeMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
    }

    /** An ascending index per configured search path, scoped by tenant like every query. */
    public Uni<Void> ensureSearchIndex(String field) {
        return twins.createIndex(Indexes.ascending("tenant", field), new IndexOptions().name("search_" + field))
                .replaceWithVoid();
    }

    /** A bulk write whose only errors are inserts of twins another writer created first. */
    private static boolean onlyDuplicateKeys(Throwable t) {
        return t instanceof MongoBulkWriteException e && e.getWriteConcernError() == null
                && e.getWriteErrors().stream().allMatch(w -> ErrorCategory.fromErrorCode(w.getCode())
                        == ErrorCategory.DUPLICATE_KEY);
    }

    private static boolean isDuplicateKey(Throwable t) {
        return t instanceof MongoWriteException w && w.getError().getCategory() == ErrorCategory.DUPLICATE_KEY;
    }
}

package dev.doppel.twin.repository;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoCommandException;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import io.quarkus.mongodb.AggregateOptions;
import io.quarkus.mongodb.FindOptions;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.BsonType;
import org.bson.Document;
import org.bson.conversions.Bson;
import dev.doppel.support.store.Queries;
import dev.doppel.twin.config.HistoryConfig;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * {@code twin_history}: one document per changed path and revision ({@code thingId}, {@code path},
 * {@code value}, {@code revision}, {@code time} = when the value was true, {@code recorded}, and
 * {@code change} = the id of the change event of that write). The unique key (thing, revision, path,
 * change) makes appending a write's entries idempotent, so a write whose delivery is finished twice
 * (after a crash, or by two instances during a rebalance) is in the history once.
 */
@ApplicationScoped
public class HistoryRepository {

    private static final Logger LOG = Logger.getLogger(HistoryRepository.class);

    /** One entry of a twin's history. */
    public record Entry(String thingId, String path, Object value, long revision, Instant time) {
    }

    private final ReactiveMongoCollection<Document> history;
    private final HistoryConfig config;

    public HistoryRepository(ReactiveMongoClient mongo,
            @ConfigProperty(name = "doppel.twin.database", defaultValue = "doppel-twins") String database,
            HistoryConfig config) {
        this.history = mongo.getDatabase(database).getCollection("twin_history");
        this.config = config;
    }

    /** The longest retention of any tenant: what a TTL index may enforce without cutting a tenant short. */
    private Duration longest() {
        return config.tenantRetention().values().stream().reduce(config.retention(),
                (a, b) -> a.compareTo(b) >= 0 ? a : b);
    }

    public Uni<Void> ensureIndexes() {
        return history.createIndex(Indexes.ascending("thingId", "path", "time"), new IndexOptions().name("thing_path_time"))
                .chain(() -> history.createIndex(Indexes.ascending("thingId", "revision", "path", "change"),
                        new IndexOptions().name("thing_revision_change").unique(true))
                        // History written before change ids existed can repeat a key (a twin deleted and
                        // created again restarted its revisions); then appends stay correct, only not
                        // deduplicated by the store. operations.md says how to clean such history up.
                        .onFailure(HistoryRepository::isDuplicateKey).invoke(e -> LOG.warnf(
                                "twin_history has entries that repeat (thingId, revision, path) without a change id;"
                                        + " the unique index thing_revision_change was not built: %s", e.getMessage()))
                        .onFailure(HistoryRepository::isDuplicateKey).recoverWithNull())
                // The unique index above starts with the keys of this older one, which is no longer needed.
                .chain(() -> history.dropIndex("thing_revision")
                        .onFailure(HistoryRepository::isIndexNotFound).recoverWithNull())
                // Real MongoDB expires entries by itself; the stand-in ignores TTL, so the service also deletes them.
                .chain(() -> history.createIndex(Indexes.ascending("recorded"), new IndexOptions().name("retention")
                        .expireAfter(longest().toSeconds(), TimeUnit.SECONDS)))
                .replaceWithVoid();
    }

    /**
     * The entries one twin write adds to the history, under the id of its change event: its values at
     * {@code revision}, and values it superseded before that (at lower revisions).
     */
    public record Write(String change, String tenant, long revision, List<Entry> entries) {
    }

    /**
     * Appends the entries of these writes with one insert (a consumed batch's writes together); entries
     * already there are kept, so appending a write again changes nothing.
     */
    public Uni<Void> append(List<Write> writes) {
        Date now = new Date();
        List<Document> docs = new ArrayList<>();
        for (Write w : writes) {
            for (Entry e : w.entries()) {
                docs.add(new Document("_id", entryId(w, e)).append("thingId", e.thingId())
                        .append("tenant", w.tenant()).append("path", e.path())
                        .append("value", e.value()).append("revision", e.revision())
                        .append("time", e.time().toString()).append("timeDate", Date.from(e.time()))
                        .append("recorded", now).append("change", w.change()));
            }
        }
        if (docs.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return history.insertMany(docs, new InsertManyOptions().ordered(false)).replaceWithVoid()
                .onFailure(HistoryRepository::onlyDuplicates).recoverWithNull();
    }

    /**
     * How many of the write's entries the history holds: a lookup by {@code _id}, so its cost does not
     * grow with the history (a count by thing, revision and change is served by no index of the
     * stand-in and scanned the whole collection).
     */
    public Uni<Integer> countPresent(Write write) {
        List<String> ids = write.entries().stream().map(e -> entryId(write, e)).toList();
        return history.find(Filters.in("_id", ids), new FindOptions().projection(new Document("_id", 1)))
                .collect().asList().map(List::size);
    }

    /**
     * An entry's id: its write's change id and its path, and for a value the write superseded the
     * revision it had; so an append repeated (a delivery finished twice, by a retry or after a crash)
     * finds its entries there and adds nothing.
     */
    private static String entryId(Write write, Entry e) {
        return write.change() + "/" + e.path() + (e.revision() == write.revision() ? "" : "@" + e.revision());
    }

    /** Values of one path (and the paths below it) in time order. */
    public Uni<List<Entry>> values(String thingId, String path, Instant from, Instant to, int limit) {
        List<Bson> f = new ArrayList<>(List.of(Filters.eq("thingId", thingId)));
        if (path != null) {
            f.add(Filters.or(Filters.eq("path", path), Filters.regex("path",
                    "^" + java.util.regex.Pattern.quote(path + "/"))));
        }
        if (from != null) {
            f.add(Filters.gte("timeDate", Date.from(from)));
        }
        if (to != null) {
            f.add(Filters.lte("timeDate", Date.from(to)));
        }
        return history.find(Filters.and(f), new FindOptions().sort(Sorts.ascending("timeDate", "revision")).limit(limit).maxTime(Queries.maxTimeMillis(), java.util.concurrent.TimeUnit.MILLISECONDS))
                .map(HistoryRepository::entry).collect().asList();
    }

    /** One interval of a path's numeric values: when it starts, and the values' count, minimum, maximum and mean. */
    public record Bucket(Instant start, long count, double min, double max, double avg) {
    }

    /**
     * The numeric values of one path in {@code [from, to)}, summarized per interval by the store (one
     * aggregation; values that are not numbers are left out), oldest interval first; intervals
     * without values are absent. Intervals start at {@code from} and follow each other.
     */
    public Uni<List<Bucket>> aggregate(String thingId, String path, Instant from, Instant to, Duration interval) {
        Bson match = Aggregates.match(Filters.and(Filters.eq("thingId", thingId), Filters.eq("path", path),
                Filters.gte("timeDate", Date.from(from)), Filters.lt("timeDate", Date.from(to)),
                Filters.or(Filters.type("value", BsonType.DOUBLE), Filters.type("value", BsonType.INT32),
                        Filters.type("value", BsonType.INT64), Filters.type("value", BsonType.DECIMAL128))));
        Document millis = new Document("$toLong", "$timeDate");
        Document start = new Document("$subtract", List.of(millis, new Document("$mod", List.of(
                new Document("$subtract", List.of(millis, from.toEpochMilli())), interval.toMillis()))));
        Bson group = Aggregates.group(start, Accumulators.sum("count", 1), Accumulators.min("min", "$value"),
                Accumulators.max("max", "$value"), Accumulators.avg("avg", "$value"));
        return history.aggregate(List.of(match, group, Aggregates.sort(Sorts.ascending("_id"))),
                        new AggregateOptions().maxTime(Queries.maxTimeMillis(), TimeUnit.MILLISECONDS))
                .map(d -> new Bucket(Instant.ofEpochMilli(((Number) d.get("_id")).longValue()),
                        ((Number) d.get("count")).longValue(), ((Number) d.get("min")).doubleValue(),
                        ((Number) d.get("max")).doubleValue(), ((Number) d.get("avg")).doubleValue()))
                .collect().asList();
    }

    /**
     * The entries up to a revision or a time, in revision order, to rebuild the twin as it was: at most
     * {@code limit}, streamed as the store returns them (never all in memory at once).
     */
    public Multi<Entry> upTo(String thingId, Long revision, Instant at, int limit) {
        Bson f = revision != null ? Filters.and(Filters.eq("thingId", thingId), Filters.lte("revision", revision))
                : Filters.and(Filters.eq("thingId", thingId), Filters.lte("timeDate", Date.from(at)));
        return history.find(f, new FindOptions().sort(Sorts.ascending("revision", "timeDate")).limit(limit).maxTime(Queries.maxTimeMillis(), java.util.concurrent.TimeUnit.MILLISECONDS))
                .map(HistoryRepository::entry);
    }

    /** Deletes what is older than its tenant's retention; returns how many entries went. */
    public Uni<Long> expire() {
        Instant now = Instant.now();
        Uni<Long> rest = history.deleteMany(Filters.and(Filters.nin("tenant", config.tenantRetention().keySet()),
                Filters.lt("recorded", Date.from(now.minus(config.retention()))))).map(r -> r.getDeletedCount());
        for (var e : config.tenantRetention().entrySet()) {
            Bson old = Filters.and(Filters.eq("tenant", e.getKey()),
                    Filters.lt("recorded", Date.from(now.minus(e.getValue()))));
            rest = rest.chain(n -> history.deleteMany(old).map(r -> n + r.getDeletedCount()));
        }
        return rest;
    }

    private static boolean onlyDuplicates(Throwable t) {
        return t instanceof MongoBulkWriteException e && e.getWriteConcernError() == null
                && e.getWriteErrors().stream().allMatch(w -> ErrorCategory.fromErrorCode(w.getCode())
                        == ErrorCategory.DUPLICATE_KEY);
    }

    private static boolean isDuplicateKey(Throwable t) {
        return t instanceof com.mongodb.MongoException e && ErrorCategory.fromErrorCode(e.getCode())
                == ErrorCategory.DUPLICATE_KEY;
    }

    private static boolean isIndexNotFound(Throwable t) {
        return t instanceof MongoCommandException e && (e.getErrorCode() == 27 || e.getErrorMessage().contains("index not found"));
    }

    private static Entry entry(Document d) {
        return new Entry(d.getString("thingId"), d.getString("path"), d.get("value"),
                d.get("revision", Number.class).longValue(), Instant.parse(d.getString("time")));
    }
}

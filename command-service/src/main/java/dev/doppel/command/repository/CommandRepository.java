package dev.doppel.command.repository;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Updates;
import dev.doppel.command.config.CommandConfig;
import dev.doppel.command.mapping.CommandDocumentMapper;
import dev.doppel.command.model.Command;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.support.store.Queries;
import dev.doppel.support.vertx.CallerContext;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.bson.types.Binary;

/** The {@code commands} collection: one document per command with its status history. */
@ApplicationScoped
public class CommandRepository {

    /** Commands written lately: most of the ones whose status moves in the next seconds. */
    private static final int RECENT = 10_000;

    private final ReactiveMongoCollection<Document> commands;
    private final RecentCommands recent = new RecentCommands(RECENT);
    private final java.util.Map<String, java.util.concurrent.CompletableFuture<Void>> writing =
            new java.util.concurrent.ConcurrentHashMap<>();

    public CommandRepository(ReactiveMongoClient mongo, CommandConfig config) {
        this.commands = mongo.getDatabase(config.database()).getCollection("commands");
    }

    /**
     * Declared indexes. {@code id_status} adds nothing to uniqueness: it is there because the stand-in
     * serves a filter from an index only when the filter's keys are exactly a unique index's keys, so
     * each status move is a flat {@code {_id, status}} compare-and-set it serves (real MongoDB serves it
     * from {@code _id}); an {@code {_id, status: {$in}}} filter scanned every command ever stored.
     */
    public Uni<Void> ensureIndexes() {
        return commands.createIndex(Indexes.ascending("_id", "status"), new IndexOptions().name("id_status").unique(true))
                .chain(() -> commands.createIndex(Indexes.ascending("thingId", "createdAt"),
                        new IndexOptions().name("thing_created")))
                .chain(() -> commands.createIndex(Indexes.ascending("dueAt"),
                        new IndexOptions().name("due").sparse(true)))
                .chain(() -> commands.createIndex(Indexes.ascending("thingId", "status", "createdAt"),
                        new IndexOptions().name("thing_status_created")))
                .chain(() -> commands.createIndex(Indexes.ascending("idempotencyKey"),
                        new IndexOptions().name("idempotency").unique(true).sparse(true)))
                .chain(() -> commands.createIndex(Indexes.descending("tenant", "createdAt"),
                        new IndexOptions().name("tenant_created")))
                .replaceWithVoid();
    }

    public Uni<Void> insert(Command command) {
        Document document = CommandDocumentMapper.toDocument(command);
        return commands.insertOne(document).invoke(() -> recent.written(document)).replaceWithVoid();
    }

    /**
     * Inserts a command under an idempotency key; {@code false} if a command with that key exists
     * already (then nothing is written).
     */
    public Uni<Boolean> insertOnce(Command command, String idempotencyKey) {
        Document document = CommandDocumentMapper.toDocument(command).append("idempotencyKey", idempotencyKey);
        return commands.insertOne(document).invoke(() -> recent.written(document))
                .replaceWith(true)
                .onFailure(t -> t instanceof com.mongodb.MongoWriteException w
                        && w.getError().getCategory() == com.mongodb.ErrorCategory.DUPLICATE_KEY)
                .recoverWithItem(false);
    }

    public Uni<Optional<Command>> findByIdempotencyKey(String idempotencyKey) {
        return commands.find(Filters.eq("idempotencyKey", idempotencyKey)).collect().first()
                .map(d -> Optional.ofNullable(d).map(CommandDocumentMapper::fromDocument));
    }

    /** Newest first; {@code tenants} null means every tenant. */
    public Uni<java.util.List<Command>> list(java.util.Set<String> tenants, String thingId, String status,
            Instant since, int limit) {
        java.util.List<Bson> f = new ArrayList<>();
        if (tenants != null) {
            f.add(Filters.in("tenant", tenants));
        }
        if (thingId != null) {
            f.add(Filters.eq("thingId", thingId));
        }
        if (status != null) {
            f.add(Filters.eq("status", status));
        }
        if (since != null) {
            f.add(Filters.gt("createdAt", Date.from(since)));
        }
        Bson filter = f.isEmpty() ? Filters.empty() : Filters.and(f);
        return commands.find(filter, new io.quarkus.mongodb.FindOptions()
                        .sort(com.mongodb.client.model.Sorts.descending("createdAt", "_id")).limit(limit)
                        .maxTime(Queries.maxTimeMillis(), java.util.concurrent.TimeUnit.MILLISECONDS))
                .map(CommandDocumentMapper::fromDocument).collect().asList();
    }

    public Uni<Optional<Command>> find(String id) {
        return read(id).map(d -> Optional.ofNullable(d).map(CommandDocumentMapper::fromDocument));
    }

    /**
     * The subject of a command this instance wrote lately, without a store round trip (a command's
     * subject never changes, so any copy tells it); empty when not known here.
     */
    public Optional<String> knownSubject(String id) {
        return Optional.ofNullable(recent.get(id)).map(d -> d.getString("subject"));
    }

    /** A step on the devices' side (SENT, DELIVERED, an answer), as its status event reported it. */
    public record Step(CommandStatus status, Instant at, String reason, Command.Response response) {
    }

    /** Whether a command at {@code from} moves on to {@code to}: statuses only go forward, and an end is final. */
    static boolean moves(CommandStatus from, CommandStatus to) {
        return !from.isTerminal() && (to.isTerminal() || from.ordinal() < to.ordinal());
    }

    /**
     * Records a command's steps from the devices' side, in their order, with at most one write. A step
     * ahead of the command's status moves it: DELIVERED starts the answer's deadline (the command's
     * timeout from the acknowledgement; no timer for a one-way command), an end clears the timer and
     * keeps the answer. A step that arrives after the command ended (a PUBACK reported after the answer)
     * is added to the history only, once. A step the command has reached already changes nothing, so
     * redelivered and reordered events leave it as it is.
     *
     * @return the command as written, when this write ended it; else empty
     */
    public Uni<Optional<Command>> record(String id, List<Step> steps) {
        Recording[] applied = new Recording[1];
        return oneAtATime(id, () -> {
            Document known = recent.get(id);
            Recording fromCopy = known == null ? null : Recording.of(known, steps);
            if (fromCopy != null && fromCopy.isEmpty()) {
                // History only grows and statuses only move forward: what a copy has, the store has.
                return Uni.createFrom().item(Optional.<Document>empty());
            }
            // A move may start from the copy (the compare-and-set on the status guards it). Notes only
            // (the command has ended) start from the store: whether the history lacks them is for the
            // store to say, since a replica may have added them.
            Uni<Document> start = fromCopy != null && fromCopy.status() != null ? Uni.createFrom().item(known)
                    : read(id);
            return start.chain(read -> moveIf(id, read, r -> !Recording.of(r, steps).isEmpty(),
                    r -> (applied[0] = Recording.of(r, steps)).update(r), MAX_TRIES));
        }).map(written -> written.filter(d -> applied[0].ends()).map(CommandDocumentMapper::fromDocument));
    }

    /** What a command's steps change in it, worked out from the command as read. */
    private record Recording(CommandStatus status, Step lastMove, Step delivered, List<Document> entries) {

        static Recording of(Document read, List<Step> steps) {
            CommandStatus status = CommandStatus.valueOf(read.getString("status"));
            java.util.Set<String> inHistory = new java.util.HashSet<>();
            for (Document h : read.getList("history", Document.class, List.of())) {
                inHistory.add(h.getString("status"));
            }
            Step lastMove = null;
            Step delivered = null;
            List<Document> entries = new ArrayList<>();
            for (Step step : steps) {
                boolean moved = moves(status, step.status());
                boolean late = !moved && status.isTerminal() && !step.status().isTerminal();
                if ((moved || late) && inHistory.add(step.status().name())) {
                    entries.add(CommandDocumentMapper.entry(new Command.StatusEntry(step.status(), step.at(),
                            step.reason())));
                }
                if (moved) {
                    status = step.status();
                    lastMove = step;
                    delivered = step.status() == CommandStatus.DELIVERED ? step : delivered;
                }
            }
            return new Recording(lastMove == null ? null : status, lastMove, delivered, entries);
        }

        boolean isEmpty() {
            return entries.isEmpty();
        }

        boolean ends() {
            return status != null && status.isTerminal();
        }

        Bson update(Document read) {
            List<Bson> all = new ArrayList<>();
            // $addToSet: the same event recorded twice (by both consumers, say) is in the history once.
            all.add(Updates.addEachToSet("history", entries));
            if (status == null) {
                return all.get(0);
            }
            all.add(Updates.set("status", status.name()));
            all.add(Updates.set("modifiedAt", Date.from(lastMove.at())));
            if (ends()) {
                all.add(Updates.unset("dueAt"));
                if (lastMove.response() != null) {
                    all.add(Updates.set("response", responseDocument(lastMove.response())));
                }
            } else if (delivered != null) {
                Command command = CommandDocumentMapper.fromDocument(read);
                all.add(command.responseRequired()
                        ? Updates.set("dueAt", Date.from(delivered.at().plus(command.timeout())))
                        : Updates.unset("dueAt"));
            }
            return Updates.combine(all);
        }
    }

    private static Document responseDocument(Command.Response response) {
        return new Document("statusCode", response.statusCode())
                .append("contentType", response.contentType())
                .append("payload", new Binary(response.payload() == null ? new byte[0] : response.payload()));
    }

    /**
     * Ends a command that has not ended yet (EXPIRED, TIMED_OUT: steps command-service decides), and
     * clears its timer. Returns the command as the move left it, or empty when it had ended already.
     */
    public Uni<Optional<Command>> end(String id, CommandStatus status, Instant at, String reason) {
        return endFrom(id, Arrays.stream(CommandStatus.values()).filter(s -> moves(s, status)).toList(), status, at,
                reason);
    }

    /**
     * Ends a command only from one of {@code from} (a cancel, say), and clears its timer. Returns the
     * command as the move left it, or empty when it did not move, so callers need no read after it.
     */
    public Uni<Optional<Command>> endFrom(String id, List<CommandStatus> from, CommandStatus status, Instant at,
            String reason) {
        Bson update = Updates.combine(Updates.set("status", status.name()),
                Updates.push("history", CommandDocumentMapper.entry(new Command.StatusEntry(status, at, reason))),
                Updates.set("modifiedAt", Date.from(at)), Updates.unset("dueAt"));
        return oneAtATime(id, () -> moveIf(id, d -> from.contains(CommandStatus.valueOf(d.getString("status"))),
                read -> update)).map(d -> d.map(CommandDocumentMapper::fromDocument));
    }

    /**
     * Runs the writes of one command on this instance one after the other (both status consumers and
     * the timers write): each then starts from the copy the one before left, instead of failing the
     * other's compare-and-set and reading the command again. Only writes in flight are tracked.
     */
    private <T> Uni<T> oneAtATime(String id, java.util.function.Supplier<Uni<T>> write) {
        return Uni.createFrom().deferred(() -> {
            java.util.concurrent.CompletableFuture<Void> mine = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.CompletableFuture<Void> before = writing.put(id, mine);
            // The turn comes on the thread that ended the write before; this one goes on on its own.
            Uni<Void> turn = before == null ? Uni.createFrom().voidItem()
                    : Uni.createFrom().completionStage(before).replaceWithVoid().emitOn(CallerContext.current());
            return turn.chain(() -> Uni.createFrom().deferred(write::get)).onTermination().invoke(() -> {
                writing.remove(id, mine);
                mine.complete(null);
            });
        });
    }

    /**
     * Applies the update made from the command as it is now, if it passes {@code allowed}: a
     * compare-and-set on the status it has (served by an index whatever the number of commands). The
     * command as this instance last wrote it ({@link RecentCommands}) stands for it when there is one;
     * otherwise, or when another writer moved the status in between, it is read by id. Statuses only
     * move forward, so that ends within as many tries as there are statuses.
     */
    private Uni<Optional<Document>> moveIf(String id, Predicate<Document> allowed, Function<Document, Bson> update) {
        return Uni.createFrom().deferred(() -> {
            Document known = recent.get(id);
            return known != null ? Uni.createFrom().item(known) : read(id);
        }).chain(read -> moveIf(id, read, allowed, update, MAX_TRIES));
    }

    /** Statuses only move forward, so a move ends within as many tries as there are statuses. */
    private static final int MAX_TRIES = CommandStatus.values().length + 1;

    private Uni<Optional<Document>> moveIf(String id, Document read, Predicate<Document> allowed,
            Function<Document, Bson> update, int tries) {
        if (read == null || !allowed.test(read)) {
            return Uni.createFrom().item(Optional.<Document>empty());
        }
        return commands.findOneAndUpdate(new Document("_id", id).append("status", read.getString("status")),
                        update.apply(read), new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER))
                .chain(moved -> {
                    if (moved != null) {
                        recent.written(moved);
                        return Uni.createFrom().item(Optional.of(moved));
                    }
                    return tries > 1 ? read(id).chain(again -> moveIf(id, again, allowed, update, tries - 1))
                            : Uni.createFrom().failure(new IllegalStateException(
                                    "command " + id + " kept changing while its status was moved"));
                });
    }

    private Uni<Document> read(String id) {
        return commands.find(Filters.eq("_id", id)).collect().first();
    }

    /**
     * Deletes the commands that ended (succeeded, failed, timed out, expired, cancelled) before
     * {@code before}; returns how many went. Open commands stay, however old.
     */
    public Uni<Long> removeEnded(Instant before) {
        return commands.deleteMany(Filters.and(Filters.in("status", ENDED), Filters.lt("modifiedAt", Date.from(before))))
                .map(r -> r.getDeletedCount());
    }

    /** Commands whose timer has run out (expiry or answer deadline), oldest first. */
    public Uni<List<Command>> due(Instant now, int limit) {
        return commands.find(Filters.and(Filters.lte("dueAt", Date.from(now)),
                        Filters.in("status", WAITING_OR_DELIVERED)),
                        new io.quarkus.mongodb.FindOptions().sort(com.mongodb.client.model.Sorts.ascending("dueAt"))
                                .limit(limit))
                .map(CommandDocumentMapper::fromDocument).collect().asList();
    }

    /** Commands of a thing that wait for the device (queued, or sent but not acknowledged), in submission order. */
    public Uni<List<Command>> waiting(String thingId, Instant now) {
        return commands.find(Filters.and(Filters.eq("thingId", thingId), Filters.in("status", WAITING),
                        Filters.gt("expiresAt", Date.from(now))),
                        new io.quarkus.mongodb.FindOptions().sort(com.mongodb.client.model.Sorts.ascending("createdAt", "_id")))
                .map(CommandDocumentMapper::fromDocument).collect().asList();
    }

    public Uni<Long> countWaiting(String thingId) {
        return commands.countDocuments(Filters.and(Filters.eq("thingId", thingId), Filters.in("status", WAITING)));
    }

    /** Replaces the payload of a command that has not been sent yet; says whether it did. */
    public Uni<Boolean> replacePayload(String id, byte[] payload) {
        return commands.updateOne(new Document("_id", id).append("status", CommandStatus.QUEUED.name()),
                Updates.set("payload", new Binary(payload))).map(r -> r.getModifiedCount() == 1);
    }

    private static final List<String> WAITING = List.of(CommandStatus.QUEUED.name(), CommandStatus.SENT.name());
    private static final List<String> ENDED = Arrays.stream(CommandStatus.values()).filter(CommandStatus::isTerminal)
            .map(Enum::name).toList();
    private static final List<String> WAITING_OR_DELIVERED = List.of(CommandStatus.QUEUED.name(),
            CommandStatus.SENT.name(), CommandStatus.DELIVERED.name());
}

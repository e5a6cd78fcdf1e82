package dev.doppel.twin.service;

import dev.doppel.contracts.ThingId;
import dev.doppel.support.vertx.CallerContext;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.twin.messaging.TwinRoomNotices;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.model.TwinPath;
import dev.doppel.twin.model.TwinTree;
import dev.doppel.twin.repository.TwinRepository;
import dev.doppel.twin.repository.TwinRepository.Copy;
import dev.doppel.twin.repository.TwinRepository.Stored;
import dev.doppel.twin.repository.TwinRepository.Write;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Writes through the API: PUT, merge PATCH and DELETE on the whole twin or any path in it, with
 * Ditto's conditional requests. Each write is one conditional document write (retried when another
 * writer came first, unless the caller made it conditional) carrying its {@link Outbox}, followed by
 * a change on {@code dt.twin-changes} and the history entry ({@link ChangeDelivery}).
 *
 * <p>Edits that arrive while a batch is being written wait for the next one (group commit): a batch
 * reads its twins with one query, writes them with one bulk write and delivers their changes
 * together, like the report writer ({@link TwinService#applyAll}). Alone, an edit is a batch of one and
 * waits for nothing. A batch holds at most one edit per twin (the next waits) and at most
 * {@value TwinService#TWINS_PER_WRITE} twins; up to {@value #BATCHES_AT_ONCE} batches, on different
 * twins, are written at once. An edit whose write lost a race, and every deletion of a
 * whole twin, goes through {@link #attempt} on its own.
 */
@ApplicationScoped
public class TwinEdits {

    static final int MAX_ATTEMPTS = 16;
    /**
     * Batches written at the same time (on disjoint twins). One at a time left the store and the broker
     * idle while each batch waited on its four round trips (JFR: twin-service 0.8 of a core, the
     * machine at 68 %, at 1,500 edits/s).
     */
    static final int BATCHES_AT_ONCE = 4;

    public enum Edit { PUT, PATCH, DELETE }

    /** {@code If-Match} / {@code If-None-Match} as sent, or null. */
    public record Conditions(String ifMatch, String ifNoneMatch) {
        public boolean any() {
            return ifMatch != null || ifNoneMatch != null;
        }
    }

    /** The twin after the write (null when the whole twin was deleted), and whether the path was new. */
    public record Written(Twin twin, boolean created) {
    }

    public static final class NotFound extends RuntimeException {
        public NotFound(String message) {
            super(message, null, false, false);
        }
    }

    public static final class PreconditionFailed extends RuntimeException {
        public PreconditionFailed(String message) {
            super(message, null, false, false);
        }
    }

    private final TwinRepository repository;
    private final TwinHistory history;
    private final ChangeDelivery delivery;
    private final TwinSizeLimit sizeLimit;
    private final TwinRoomNotices roomNotices;
    private final Clock clock = Clock.systemUTC();
    private final DistributionSummary batchSizes;
    private final Timer waited;
    private final Timer read;
    private final Timer written;
    private final Timer delivered;

    public TwinEdits(TwinRepository repository, TwinHistory history, ChangeDelivery delivery, TwinSizeLimit sizeLimit,
            TwinRoomNotices roomNotices, MeterRegistry metrics) {
        this.roomNotices = roomNotices;
        this.batchSizes = DistributionSummary.builder("doppel.twin.edits.batch")
                .description("API edits written together in one batch").register(metrics);
        this.waited = phase(metrics, "wait");
        this.read = phase(metrics, "read");
        this.written = phase(metrics, "write");
        this.delivered = phase(metrics, "deliver");
        this.repository = repository;
        this.history = history;
        this.delivery = delivery;
        this.sizeLimit = sizeLimit;
    }

    /**
     * Where an API edit's time goes, per phase of its batch: waiting for the batch to start (queued
     * behind running batches), reading the twins, the bulk write, the delivery (publication and history).
     */
    private static Timer phase(MeterRegistry metrics, String phase) {
        return Timer.builder("doppel.twin.edits.phase").tag("phase", phase)
                .description("Time an API edit spends in each phase of its batch")
                .publishPercentiles(0.5, 0.99).register(metrics);
    }

    public static String etag(Twin twin) {
        return "\"rev:" + twin.revision() + "\"";
    }

    public Uni<Written> edit(ThingId id, TwinPath path, Edit edit, Object value, Conditions conditions) {
        Context trace = Context.current();
        Uni<Written> written = path.segments().isEmpty() && edit == Edit.DELETE
                ? attempt(id, path, edit, value, conditions, trace, 1)
                : Uni.createFrom().emitter(result -> queue(new Pending(new Request(id, path, edit, value, conditions,
                        trace), result, CallerContext.current(), System.nanoTime())));
        return mayMakeRoom(path, edit) ? written.invoke(w -> {
            if (!w.created()) {
                roomNotices.edited(id, w.twin());
            }
        }) : written;
    }

    /**
     * Whether an edit may remove keys and so make room a device's reports could use: a delete, or a
     * thing, its attributes, its features, a feature or its properties replaced or merged. (One value
     * written does not count: connectivity judges a report only by the keys it adds.)
     */
    private static boolean mayMakeRoom(TwinPath path, Edit edit) {
        if (edit == Edit.DELETE || path.segments().size() <= 1) {
            return true;
        }
        TwinPath.Kind kind = path.kind();
        return kind == TwinPath.Kind.FEATURE || (kind == TwinPath.Kind.PROPERTIES && path.segments().size() == 3);
    }

    /** One edit as asked for. */
    private record Request(ThingId id, TwinPath path, Edit edit, Object value, Conditions conditions, Context trace) {
    }

    /**
     * An edit waiting for its batch, and its caller: the emitter, and where to answer it. The batch
     * runs on whichever edit's context started it, so each caller is answered on its own
     * ({@link CallerContext}).
     */
    private record Pending(Request request, UniEmitter<? super Written> result, Executor caller, long queuedAt) {

        void complete(Written written) {
            caller.execute(() -> result.complete(written));
        }

        void fail(Throwable failure) {
            caller.execute(() -> result.fail(failure));
        }
    }

    /** What an edit makes of the twin as read: the twin after it and the outbox its write carries. */
    private record Plan(Twin after, Long expectedRevision, Outbox outbox, Written written) {
    }

    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    /** The twins of the batches being written: a further edit of one waits for the next batch. */
    private final Set<ThingId> busy = new HashSet<>();
    private int batches;

    private void queue(Pending p) {
        synchronized (waiting) {
            waiting.add(p);
        }
        writeNext();
    }

    /**
     * Starts a batch of what waits, unless {@value #BATCHES_AT_ONCE} are being written: in arrival
     * order, at most one edit per twin and none of a twin in a running batch.
     */
    private void writeNext() {
        List<Pending> batch = new ArrayList<>();
        synchronized (waiting) {
            if (batches >= BATCHES_AT_ONCE || waiting.isEmpty()) {
                return; // a running batch starts the next when it is done
            }
            for (Iterator<Pending> it = waiting.iterator(); it.hasNext() && batch.size() < TwinService.TWINS_PER_WRITE;) {
                Pending p = it.next();
                if (busy.add(p.request().id())) {
                    batch.add(p);
                    it.remove();
                }
            }
            if (batch.isEmpty()) {
                return;
            }
            batches++;
        }
        writeBatch(batch).subscribe().with(ok -> done(batch), failure -> {
            batch.forEach(p -> p.fail(failure));
            done(batch);
        });
    }

    private void done(List<Pending> batch) {
        synchronized (waiting) {
            batch.forEach(p -> busy.remove(p.request().id()));
            batches--;
        }
        writeNext();
    }

    /**
     * One batch: read its twins, plan each edit (an edit that cannot be made fails alone), write the
     * plans with one bulk write, deliver the changes together, answer each caller. An edit that lost
     * its write to another writer is tried again on its own.
     */
    private Uni<Void> writeBatch(List<Pending> batch) {
        batchSizes.record(batch.size());
        long[] started = {System.nanoTime()};
        batch.forEach(p -> waited.record(started[0] - p.queuedAt(), TimeUnit.NANOSECONDS));
        return repository.findAllForWrite(batch.stream().map(p -> p.request().id()).toList())
                .call(found -> delivery.settleAll(found.values()))
                .chain(found -> {
                    started[0] = lap(read, started[0]);
                    Instant now = clock.instant();
                    List<Pending> planned = new ArrayList<>();
                    List<Plan> plans = new ArrayList<>();
                    for (Pending p : batch) {
                        Request r = p.request();
                        try {
                            plans.add(plan(r, Optional.ofNullable(found.get(r.id().toString())).map(Stored::twin), now));
                            planned.add(p);
                        } catch (RuntimeException e) {
                            p.fail(e);
                        }
                    }
                    if (plans.isEmpty()) {
                        return Uni.createFrom().voidItem();
                    }
                    return repository.writeAll(plans.stream()
                            .map(plan -> new Write(plan.after(), plan.expectedRevision(), plan.outbox())).toList(),
                            Copy.DROP)
                            .chain(written -> {
                                started[0] = lap(this.written, started[0]);
                                List<ChangeDelivery.Delivery> deliveries = new ArrayList<>();
                                List<Runnable> answers = new ArrayList<>();
                                for (int i = 0; i < plans.size(); i++) {
                                    Pending p = planned.get(i);
                                    Plan plan = plans.get(i);
                                    Request r = p.request();
                                    if (written.contains(r.id().toString())) {
                                        deliveries.add(new ChangeDelivery.Delivery(plan.outbox(), r.trace()));
                                        answers.add(() -> p.complete(plan.written()));
                                    } else {
                                        retry(r.id(), r.path(), r.edit(), r.value(), r.conditions(), r.trace(), 1)
                                                .subscribe().with(p::complete, p::fail);
                                    }
                                }
                                return delivery.deliverAll(deliveries).invoke(() -> {
                                    lap(delivered, started[0]);
                                    answers.forEach(Runnable::run);
                                })
                                        .onFailure().invoke(f -> {
                                            for (int i = 0; i < plans.size(); i++) {
                                                if (written.contains(planned.get(i).request().id().toString())) {
                                                    planned.get(i).fail(f);
                                                }
                                            }
                                        })
                                        .onFailure().recoverWithNull();
                            });
                })
                .replaceWithVoid();
    }

    /** Records the time since {@code since} and returns now. */
    private static long lap(Timer timer, long since) {
        long now = System.nanoTime();
        timer.record(now - since, TimeUnit.NANOSECONDS);
        return now;
    }

    private Uni<Written> attempt(ThingId id, TwinPath path, Edit edit, Object value, Conditions conditions,
            Context trace, int attempt) {
        Instant now = clock.instant();
        return repository.findForWrite(id).call(stored -> delivery.settle(stored.flatMap(Stored::outbox)))
                .map(stored -> stored.map(Stored::twin)).chain(found -> {
            if (path.segments().isEmpty() && edit == Edit.DELETE) {
                check(conditions, found);
                if (found.isEmpty()) {
                    throw notFound(id);
                }
                Twin before = found.get();
                // The document is gone, so there is nowhere to keep an outbox: delivered directly.
                Outbox deletion = history.outbox(change(id, before.revision() + 1, before.revision(),
                        Map.of("", TwinHistory.DELETED), now, Map.of()), null, null);
                return repository.delete(id, before.revision()).chain(deleted -> deleted
                        ? delivery.deliver(deletion, trace).replaceWith(new Written(null, false))
                        : retry(id, path, edit, value, conditions, trace, attempt));
            }
            Plan plan = plan(new Request(id, path, edit, value, conditions, trace), found, now);
            Uni<Boolean> write = plan.expectedRevision() != null
                    ? repository.replace(plan.after(), plan.expectedRevision(), plan.outbox(), Copy.DROP)
                    : repository.insert(plan.after(), plan.outbox(), Copy.DROP);
            return write.chain(written -> written
                    ? delivery.deliver(plan.outbox(), trace).replaceWith(plan.written())
                    : retry(id, path, edit, value, conditions, trace, attempt));
        });
    }

    /**
     * The edit applied to the twin as read (empty: it does not exist): the conditions checked, the
     * value checked, the size limit kept. Throws what the caller is to be told otherwise.
     */
    private Plan plan(Request r, Optional<Twin> found, Instant now) {
        ThingId id = r.id();
        TwinPath path = r.path();
        Edit edit = r.edit();
        Object value = r.value();
        check(r.conditions(), found);
        boolean thing = path.segments().isEmpty();
        if (found.isEmpty() && !(thing && edit == Edit.PUT)) {
            throw notFound(id);
        }
        Twin before = found.orElseGet(() -> Twin.empty(id, now));
        Map<String, Object> deltaBefore = before.delta();
        Map<String, Object> tree = TwinTree.of(before);
        boolean existed = found.isPresent() && TwinTree.exists(tree, path);
        switch (edit) {
            case PUT -> TwinTree.put(tree, path, thing ? checkedThing(id, value) : value);
            case PATCH -> {
                if (!existed) {
                    throw new NotFound("'" + path + "' does not exist in thing '" + id + "'");
                }
                Object merged = TwinTree.mergePatch(thing ? tree : TwinTree.get(tree, path),
                        thing ? checkedThing(id, value) : value);
                TwinTree.put(tree, path, merged);
            }
            case DELETE -> {
                if (!TwinTree.delete(tree, path)) {
                    throw new NotFound("'" + path + "' does not exist in thing '" + id + "'");
                }
            }
        }
        Twin after = TwinTree.toTwin(tree, before, now);
        sizeLimit.check(after);
        Map<String, Object> changes = new HashMap<>();
        changes.put(path.toString(), edit == Edit.DELETE ? null : TwinTree.get(TwinTree.of(after), path));
        Outbox outbox = history.outbox(change(id, after.revision(), before.revision(), changes, now,
                after.delta()), after, deltaBefore);
        return new Plan(after, found.isPresent() ? before.revision() : null, outbox, new Written(after, !existed));
    }

    private static NotFound notFound(ThingId id) {
        return new NotFound("The thing with id '" + id + "' could not be found or the requester may not read it.");
    }

    private Uni<Written> retry(ThingId id, TwinPath path, Edit edit, Object value, Conditions conditions,
            Context trace, int attempt) {
        if (attempt >= MAX_ATTEMPTS) {
            return Uni.createFrom().failure(new IllegalStateException("thing " + id + " kept changing; gave up"));
        }
        // Another writer came first: a conditional request now fails its check, any other one retries.
        return attempt(id, path, edit, value, conditions, trace, attempt + 1);
    }

    private static TwinChanged change(ThingId id, long revision, long previous, Map<String, Object> changes,
            Instant now, Map<String, Object> delta) {
        return new TwinChanged(UUID.randomUUID().toString(), id.toString(), revision, previous, changes, now, "api",
                delta);
    }

    /** Ditto's semantics: If-Match needs the current tag (or any, with *); If-None-Match: * needs absence. */
    private static void check(Conditions c, Optional<Twin> found) {
        if (c == null || !c.any()) {
            return;
        }
        String current = found.map(TwinEdits::etag).orElse(null);
        if (c.ifMatch() != null) {
            boolean ok = current != null && Arrays.stream(c.ifMatch().split(","))
                    .map(String::trim).anyMatch(t -> t.equals("*") || t.equals(current));
            if (!ok) {
                throw new PreconditionFailed("If-Match " + c.ifMatch() + " does not match the current revision "
                        + (current == null ? "(the thing does not exist)" : current));
            }
        }
        if (c.ifNoneMatch() != null && current != null) {
            boolean hit = Arrays.stream(c.ifNoneMatch().split(","))
                    .map(String::trim).anyMatch(t -> t.equals("*") || t.equals(current));
            if (hit) {
                throw new PreconditionFailed("If-None-Match " + c.ifNoneMatch() + " matches the current revision "
                        + current);
            }
        }
    }

    private static Object checkedThing(ThingId id, Object value) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new InvalidReport("invalid-twin", "a thing must be a JSON object");
        }
        Object bodyId = m.get("thingId");
        if (bodyId != null && !id.toString().equals(bodyId)) {
            throw new InvalidReport("invalid-twin", "thingId in the body (" + bodyId + ") differs from the URL (" + id + ")");
        }
        return value;
    }
}

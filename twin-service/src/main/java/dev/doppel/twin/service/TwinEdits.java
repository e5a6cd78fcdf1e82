package dev.doppel.twin.service;

import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.model.TwinPath;
import dev.doppel.twin.model.TwinTree;
import dev.doppel.twin.repository.TwinRepository;
import dev.doppel.twin.repository.TwinRepository.Stored;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Writes through the API: PUT, merge PATCH and DELETE on the whole twin or any path in it, with
 * Ditto's conditional requests. Each write is one conditional document write (retried when another
 * writer came first, unless the caller made it conditional) carrying its {@link Outbox}, followed by
 * a change on {@code dt.twin-changes} and the history entry ({@link ChangeDelivery}).
 */
@ApplicationScoped
public class TwinEdits {

    static final int MAX_ATTEMPTS = 16;

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
    private final Clock clock = Clock.systemUTC();

    public TwinEdits(TwinRepository repository, TwinHistory history, ChangeDelivery delivery, TwinSizeLimit sizeLimit) {
        this.repository = repository;
        this.history = history;
        this.delivery = delivery;
        this.sizeLimit = sizeLimit;
    }

    public static String etag(Twin twin) {
        return "\"rev:" + twin.revision() + "\"";
    }

    public Uni<Written> edit(ThingId id, TwinPath path, Edit edit, Object value, Conditions conditions) {
        return attempt(id, path, edit, value, conditions, Context.current(), 1);
    }

    private Uni<Written> attempt(ThingId id, TwinPath path, Edit edit, Object value, Conditions conditions,
            Context trace, int attempt) {
        Instant now = clock.instant();
        return repository.findForWrite(id).call(stored -> delivery.settle(stored.flatMap(Stored::outbox)))
                .map(stored -> stored.map(Stored::twin)).chain(found -> {
            check(conditions, found);
            boolean thing = path.segments().isEmpty();
            if (found.isEmpty() && !(thing && edit == Edit.PUT)) {
                throw new NotFound("The thing with id '" + id + "' could not be found or the requester may not read it.");
            }
            Twin before = found.orElseGet(() -> Twin.empty(id, now));
            if (thing && edit == Edit.DELETE) {
                // The document is gone, so there is nowhere to keep an outbox: delivered directly.
                Outbox deletion = history.outbox(change(id, before.revision() + 1, before.revision(),
                        Map.of("", TwinHistory.DELETED), now, Map.of()), null);
                return repository.delete(id, before.revision()).chain(deleted -> deleted
                        ? delivery.deliver(deletion, trace).replaceWith(new Written(null, false))
                        : retry(id, path, edit, value, conditions, trace, attempt));
            }
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
                    after.delta()), after);
            Uni<Boolean> write = found.isPresent() ? repository.replace(after, before.revision(), outbox)
                    : repository.insert(after, outbox);
            return write.chain(written -> written
                    ? delivery.deliver(outbox, trace).replaceWith(new Written(after, !existed))
                    : retry(id, path, edit, value, conditions, trace, attempt));
        });
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

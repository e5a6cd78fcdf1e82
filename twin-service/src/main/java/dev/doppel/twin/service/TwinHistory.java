package dev.doppel.twin.service;

import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.twin.config.HistoryConfig;
import dev.doppel.twin.model.Feature;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.repository.HistoryRepository;
import dev.doppel.twin.repository.HistoryRepository.Entry;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.rest.Timeouts;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import org.jboss.logging.Logger;

/**
 * The history of every twin: each change is appended with the time its value became true (the
 * device's source time for reports, the write time for API writes); a twin can be rebuilt as it was
 * at a revision or a time. Retention is enforced here, since the MongoDB stand-in ignores TTL.
 */
@ApplicationScoped
public class TwinHistory {

    private static final Logger LOG = Logger.getLogger(TwinHistory.class);
    /** Marks the deletion of the whole thing in its history. */
    public static final String DELETED = "deleted";

    private final HistoryRepository repository;
    private final HistoryConfig config;
    private final Semaphore replays;

    public TwinHistory(HistoryRepository repository, HistoryConfig config) {
        this.repository = repository;
        this.config = config;
        this.replays = new Semaphore(config.replaysAtOnce());
    }

    /**
     * What a write owes: its change, and the time each changed value became true in {@code after}
     * (the write time when {@code after} is null, the thing being deleted), and whether the change left
     * the delta as {@code deltaBefore} had it (null: not known).
     */
    public Outbox outbox(TwinChanged change, Twin after, Map<String, Object> deltaBefore) {
        return outbox(change, after, deltaBefore, List.of());
    }

    /** The same, with the values the write superseded before its end (reports merged into one write). */
    public Outbox outbox(TwinChanged change, Twin after, Map<String, Object> deltaBefore,
            List<Outbox.Superseded> superseded) {
        Map<String, Instant> times = new LinkedHashMap<>();
        change.changes().keySet().forEach(path -> times.put(path,
                after == null ? change.modified() : timeOf(after, path, change.modified())));
        return new Outbox(change, times, deltaBefore != null && deltaBefore.equals(change.delta()), superseded);
    }

    /** Appends the entries of these writes, with one insert; appending them again changes nothing. */
    public Uni<Void> append(List<Outbox> outboxes) {
        return repository.append(outboxes.stream().map(TwinHistory::write).toList());
    }

    /** Whether all entries of this write are in the history (an append cut short leaves some out). */
    public Uni<Boolean> contains(Outbox outbox) {
        HistoryRepository.Write write = write(outbox);
        return repository.countPresent(write).map(n -> n >= write.entries().size());
    }

    /** A write's history: the values it superseded, in their order, then its change's values. */
    private static HistoryRepository.Write write(Outbox outbox) {
        TwinChanged c = outbox.change();
        List<Entry> entries = new ArrayList<>(outbox.superseded().size() + c.changes().size());
        outbox.superseded().forEach(s -> entries.add(new Entry(c.thingId(), s.path(), s.value(), s.revision(), s.time())));
        c.changes().forEach((path, value) -> entries.add(new Entry(c.thingId(), path, value, c.revision(),
                outbox.times().get(path))));
        return new HistoryRepository.Write(outbox.id(), ThingId.parse(c.thingId()).tenant(), c.revision(), entries);
    }

    /** How long the history of a tenant is kept. */
    public Duration retention(String tenant) {
        return config.tenantRetention().getOrDefault(tenant, config.retention());
    }

    public Uni<List<Entry>> values(ThingId id, String path, Instant from, Instant to, int limit) {
        return repository.values(id.toString(), path, from, to, limit);
    }

    /** At most this many intervals in one summary: a chart's worth, whatever range is asked for. */
    public static final int MAX_BUCKETS = 1000;
    private static final Duration DEFAULT_RANGE = Duration.ofDays(1);

    /**
     * The numeric values of one path summarized per interval (count, min, max, mean), computed by the
     * store, so that a week of readings reaches a chart as a few hundred points. {@code to} defaults
     * to now, {@code from} to a day before {@code to}; at most {@link #MAX_BUCKETS} intervals.
     */
    public Uni<Summary> summarize(ThingId id, String path, Instant from, Instant to, String interval) {
        Instant end = to == null ? Instant.now() : to;
        Instant start = from == null ? end.minus(DEFAULT_RANGE) : from;
        if (!start.isBefore(end)) {
            throw invalid("invalid-time", "from must be before to");
        }
        Duration range = Duration.between(start, end);
        Duration step = Timeouts.parse("interval", interval, range.dividedBy(100).compareTo(Duration.ofSeconds(1)) < 0
                ? Duration.ofSeconds(1) : range.dividedBy(100), Duration.ofDays(366));
        if (step.compareTo(Duration.ofSeconds(1)) < 0) {
            throw invalid("invalid-interval", "the interval is at least 1s");
        }
        if (range.dividedBy(step) >= MAX_BUCKETS) {
            throw invalid("invalid-interval", "from " + start + " to " + end + " in steps of " + step.toSeconds()
                    + "s makes more than " + MAX_BUCKETS + " intervals; choose a longer interval or a shorter range");
        }
        return repository.aggregate(id.toString(), path, start, end, step)
                .map(buckets -> new Summary(path, start, end, step, buckets));
    }

    /** A path's values over {@code [from, to)} in intervals of {@code interval}. */
    public record Summary(String path, Instant from, Instant to, Duration interval, List<HistoryRepository.Bucket> buckets) {
    }

    private static ProblemException invalid(String kind, String detail) {
        return new ProblemException(Problem.of(kind, "Invalid summary", 400, detail, null));
    }

    /**
     * The thing as it was at a revision or a time (API shape), or empty if it did not exist then.
     *
     * <p>Rebuilt by replaying its history from the start, folded as the entries arrive: memory stays
     * that of one twin, however long the history. Refused when more than
     * {@code doppel.twin.history.max-replay} entries would be read (422), or when
     * {@code replays-at-once} rebuilds are running already (429, try again), so that viewers asking
     * for old revisions of long-lived twins, or many of them in one GraphQL query, cannot hold the
     * store and this instance.
     */
    public Uni<Optional<Map<String, Object>>> asOf(ThingId id, Long revision, Instant at) {
        return Uni.createFrom().deferred(() -> {
            if (!replays.tryAcquire()) {
                return Uni.createFrom().failure(new ProblemException(Problem.of("too-many-rebuilds",
                        "Too many rebuilds", 429, "as many twins are being rebuilt from their history as this "
                                + "instance allows at once (" + config.replaysAtOnce() + "); try again shortly", null),
                        Duration.ofSeconds(1)));
            }
            int max = config.maxReplay();
            return repository.upTo(id.toString(), revision, at, max + 1)
                    .collect().in(Replay::new, Replay::add)
                    .map(replay -> {
                        if (replay.entries > max) {
                            throw new ProblemException(Problem.of("history-too-long", "History too long", 422,
                                    "rebuilding thing '" + id + "' as it was would read more than " + max
                                            + " history entries (doppel.twin.history.max-replay); read the values "
                                            + "of one path with ?path= instead", null));
                        }
                        return replay.thing(id);
                    })
                    .onTermination().invoke(replays::release);
        });
    }

    /** A twin being rebuilt from its history, entry by entry. */
    private static final class Replay {
        Map<String, Object> tree = empty();
        long revision;
        boolean exists;
        int entries;

        void add(Entry e) {
            entries++;
            revision = e.revision();
            if (e.path().isEmpty()) {
                exists = !DELETED.equals(e.value());
                tree = exists && e.value() instanceof Map<?, ?> m ? copyOf(m) : empty();
                return;
            }
            exists = true;
            apply(tree, e.path().split("/"), e.value());
        }

        Optional<Map<String, Object>> thing(ThingId id) {
            if (!exists) {
                return Optional.empty();
            }
            Map<String, Object> thing = new LinkedHashMap<>();
            thing.put("thingId", id.toString());
            thing.put("policyId", dev.doppel.twin.mapping.TwinApiMapper.policyId(id));
            thing.putAll(tree);
            thing.put("_revision", revision);
            return Optional.of(thing);
        }
    }

    @Scheduled(every = "${doppel.twin.history.expiry-interval:1h}", delayed = "${doppel.twin.history.expiry-delay:1m}")
    Uni<Void> expire() {
        return repository.expire().invoke(n -> {
            if (n > 0) {
                LOG.infof("removed %d history entries past retention", n);
            }
        }).replaceWithVoid();
    }

    /** When the value at a path of the twin became true (its source time), or {@code fallback} if not known. */
    public static Instant timeOf(Twin twin, String path, Instant fallback) {
        String[] s = path.split("/");
        if (s.length == 2 && "attributes".equals(s[0])) {
            return twin.attributeTimes().getOrDefault(s[1], fallback);
        }
        if (s.length == 4 && "features".equals(s[0])) {
            Feature f = twin.features().get(s[1]);
            if (f != null && "properties".equals(s[2])) {
                return f.propertyTimes().getOrDefault(s[3], fallback);
            }
            if (f != null && "desiredProperties".equals(s[2])) {
                return f.desiredTimes().getOrDefault(s[3], fallback);
            }
        }
        return fallback;
    }

    @SuppressWarnings("unchecked")
    private static void apply(Map<String, Object> tree, String[] path, Object value) {
        Map<String, Object> node = tree;
        for (int i = 0; i < path.length - 1; i++) {
            Object next = node.get(path[i]);
            if (!(next instanceof Map)) {
                next = new LinkedHashMap<String, Object>();
                node.put(path[i], next);
            }
            node = (Map<String, Object>) next;
        }
        if (value == null) {
            node.remove(path[path.length - 1]);
        } else {
            node.put(path[path.length - 1], value instanceof Map<?, ?> m ? copyOf(m) : value);
        }
    }

    private static Map<String, Object> empty() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("attributes", new LinkedHashMap<>());
        tree.put("features", new LinkedHashMap<>());
        return tree;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> copyOf(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put((String) k, v instanceof Map<?, ?> inner ? copyOf(inner) : v));
        return out;
    }
}

package dev.doppel.twin.service;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.twin.messaging.TwinRoomNotices;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.ReportValidator;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.repository.TwinRepository;
import dev.doppel.twin.repository.TwinRepository.Copy;
import dev.doppel.twin.repository.TwinRepository.Stored;
import dev.doppel.twin.repository.TwinRepository.Write;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Applies device reports to twins: read, merge newer values, one conditional write, retry on a lost
 * race. Several reports for one twin (a consumed batch) are merged into that one write, and the twins
 * of a batch are read, written and delivered together ({@link #applyAll}). The write
 * carries its change and history in the twin document ({@link Outbox}); they are delivered after it,
 * and finished by the next writer if this one stops first ({@link ChangeDelivery}).
 */
@ApplicationScoped
public class TwinService {

    private static final Logger LOG = Logger.getLogger(TwinService.class);

    static final int MAX_ATTEMPTS = 16;
    static final int TWINS_PER_WRITE = 250;

    private final TwinRepository repository;
    private final TwinHistory history;
    private final ChangeDelivery delivery;
    private final TwinSizeLimit sizeLimit;
    private final TwinRoomNotices roomNotices;
    private final Counter tooLarge;
    private final Clock clock;

    public TwinService(TwinRepository repository, TwinHistory history, ChangeDelivery delivery,
            TwinSizeLimit sizeLimit, TwinRoomNotices roomNotices, MeterRegistry metrics) {
        this.repository = repository;
        this.roomNotices = roomNotices;
        this.history = history;
        this.delivery = delivery;
        this.sizeLimit = sizeLimit;
        this.tooLarge = metrics.counter("doppel.twin.reports.rejected", "reason", "too-large");
        this.clock = Clock.systemUTC();
    }

    /** A report that passed validation: safe keys, storable values, a thing id and a source time. */
    public record ValidReport(ThingId thingId, Map<String, Map<String, Object>> features,
            Map<String, Object> attributes, Instant sourceTime, String eventId) {
    }

    public Uni<Optional<Twin>> find(ThingId id) {
        return repository.find(id);
    }

    public Uni<List<Twin>> findAll(List<ThingId> ids) {
        return ids.isEmpty() ? Uni.createFrom().item(List.of()) : repository.findAll(ids);
    }

    /** Checks a report before it may touch a twin; throws {@link InvalidReport} with a stable reason. */
    public ValidReport validate(TelemetryReceived report) {
        ThingId id;
        try {
            id = ThingId.parse(report.thingId());
        } catch (IllegalArgumentException e) {
            throw new InvalidReport("invalid-thing-id", e.getMessage());
        }
        if (report.sourceTime() == null) {
            throw new InvalidReport("missing-time", "report has no source time");
        }
        Map<String, Map<String, Object>> features = new LinkedHashMap<>();
        if (report.features() != null) {
            report.features().forEach((featureId, props) -> {
                ReportValidator.checkKey(featureId);
                features.put(featureId, ReportValidator.normalise(props == null ? Map.of() : props));
            });
        }
        Map<String, Object> attributes = ReportValidator.normalise(
                report.attributes() == null ? Map.of() : report.attributes());
        return new ValidReport(id, features, attributes, report.sourceTime(), report.eventId());
    }

    /** The reports of one twin in a consumed batch, and the trace its write continues. */
    public record TwinReports(ThingId id, List<ValidReport> reports, Context trace) {
    }

    /**
     * Applies a consumed batch, each twin's reports merged in order into one write of that twin: the
     * batch's twins are read with one query, written with one bulk write, their changes published
     * together and their history appended with one insert. A twin whose write lost a race (an API edit,
     * another instance in a rebalance) or that would grow past its size limit is then applied alone.
     * Returns each twin's change (in the batch's order), or empty when nothing changed.
     *
     * <p>At most {@value #TWINS_PER_WRITE} twins are in memory and in one bulk write at a time (a twin
     * may be up to {@code doppel.twin.max-document-bytes}); a larger batch is written in parts, one
     * after the other.
     */
    public Uni<List<Optional<TwinChanged>>> applyAll(List<TwinReports> batch) {
        if (batch.size() <= TWINS_PER_WRITE) {
            return applyPart(batch);
        }
        List<List<TwinReports>> parts = new ArrayList<>();
        for (int i = 0; i < batch.size(); i += TWINS_PER_WRITE) {
            parts.add(batch.subList(i, Math.min(batch.size(), i + TWINS_PER_WRITE)));
        }
        return Multi.createFrom().iterable(parts)
                .onItem().transformToUniAndConcatenate(this::applyPart)
                .collect().in(ArrayList::new, List::addAll);
    }

    private Uni<List<Optional<TwinChanged>>> applyPart(List<TwinReports> batch) {
        if (batch.size() == 1) {
            TwinReports one = batch.get(0);
            return apply(one.id(), one.reports(), one.trace()).map(List::of);
        }
        return repository.findAllFromCopies(batch.stream().map(TwinReports::id).toList())
                .call(found -> delivery.settleAll(found.values()))
                .chain(found -> {
                    Instant now = clock.instant();
                    List<Optional<TwinChanged>> results = new ArrayList<>(Collections.nCopies(batch.size(),
                            Optional.<TwinChanged>empty()));
                    List<Integer> planned = new ArrayList<>();
                    List<Write> writes = new ArrayList<>();
                    List<Long> rooms = new ArrayList<>();
                    List<Integer> alone = new ArrayList<>();
                    for (int i = 0; i < batch.size(); i++) {
                        TwinReports t = batch.get(i);
                        Optional<Stored> stored = Optional.ofNullable(found.get(t.id().toString()));
                        switch (merge(t.id(), stored, t.reports(), now)) {
                            case Merge.Unchanged u -> { }
                            case Merge.TooLarge l -> alone.add(i);
                            case Merge.Planned p -> {
                                planned.add(i);
                                writes.add(new Write(p.twin(), stored.isPresent() ? p.before() : null, p.outbox()));
                                rooms.add(p.room());
                                results.set(i, Optional.of(p.outbox().change()));
                            }
                        }
                    }
                    if (writes.isEmpty()) {
                        return applyAlone(batch, alone, results);
                    }
                    return repository.writeAll(writes, Copy.KEEP).chain(written -> {
                        List<ChangeDelivery.Delivery> deliveries = new ArrayList<>();
                        for (int k = 0; k < planned.size(); k++) {
                            int i = planned.get(k);
                            if (written.contains(batch.get(i).id().toString())) {
                                roomNotices.written(writes.get(k).twin(), rooms.get(k));
                                deliveries.add(new ChangeDelivery.Delivery(writes.get(k).outbox(), batch.get(i).trace()));
                            } else {
                                results.set(i, Optional.empty());
                                alone.add(i);
                            }
                        }
                        return delivery.deliverAll(deliveries).chain(() -> applyAlone(batch, alone, results));
                    });
                });
    }

    /** The twins of a batch that need a write of their own, each through {@link #apply}, at once. */
    private Uni<List<Optional<TwinChanged>>> applyAlone(List<TwinReports> batch, List<Integer> alone,
            List<Optional<TwinChanged>> results) {
        if (alone.isEmpty()) {
            return Uni.createFrom().item(results);
        }
        return Uni.join().all(alone.stream().map(i -> apply(batch.get(i).id(), batch.get(i).reports(),
                        batch.get(i).trace())).toList())
                .andFailFast().map(changes -> {
                    for (int k = 0; k < alone.size(); k++) {
                        results.set(alone.get(k), changes.get(k));
                    }
                    return results;
                });
    }

    /**
     * Applies the reports of one twin, in order, with a single write, then publishes the change (in
     * {@code trace}) and appends the history. Returns the change, or empty when nothing changed
     * (duplicates, or reports older than what the twin holds).
     */
    public Uni<Optional<TwinChanged>> apply(ThingId id, List<ValidReport> reports, Context trace) {
        return attempt(id, reports, trace, 1);
    }

    private Uni<Optional<TwinChanged>> attempt(ThingId id, List<ValidReport> reports, Context trace, int attempt) {
        return repository.findForWrite(id)
                .call(found -> delivery.settle(found.flatMap(Stored::outbox)))
                .chain(found -> write(id, found, reports, trace, attempt));
    }

    /**
     * The reports would grow the twin past its size limit. One report alone is refused: counted,
     * logged, nothing written, and the consumer moves on (it used to be written, and the twin grew
     * without end); connectivity is told the twin's room, so that it refuses the device's next such
     * report itself ({@link TwinRoomNotices}). Several are applied one at a time, so only those that
     * would overgrow it are refused.
     */
    private Uni<Optional<TwinChanged>> overLimit(ThingId id, List<ValidReport> reports, Context trace) {
        if (reports.size() == 1) {
            tooLarge.increment();
            LOG.warnf("refused report %s for %s: it would grow the twin past doppel.twin.max-document-bytes",
                    reports.get(0).eventId(), id);
            if (!roomNotices.due(id)) {
                return Uni.createFrom().item(Optional.empty());
            }
            // Read again: the merge grew the twin as read in memory.
            return repository.find(id).invoke(found -> found.ifPresent(roomNotices::refused))
                    .onFailure().invoke(e -> LOG.warnf("could not read %s to tell its room: %s", id, e.getMessage()))
                    .onItemOrFailure().transform((found, failure) -> Optional.empty());
        }
        return Multi.createFrom().iterable(reports)
                .onItem().transformToUniAndConcatenate(r -> attempt(id, List.of(r), trace, 1))
                .collect().asList()
                .map(changes -> changes.stream().filter(Optional::isPresent).reduce((a, b) -> b)
                        .orElse(Optional.empty()));
    }

    /** What a twin's reports make of it: nothing new, too large, or a write to make. */
    private sealed interface Merge {
        record Unchanged() implements Merge {
        }

        record TooLarge() implements Merge {
        }

        /** The twin after the reports, the revision it had, what the write owes, and the room it leaves. */
        record Planned(Twin twin, long before, Outbox outbox, long room) implements Merge {
        }
    }

    /** Merges the reports, in order, into the twin as read (a new twin if none): newer values only. */
    private Merge merge(ThingId id, Optional<Stored> found, List<ValidReport> reports, Instant now) {
        Twin twin = found.map(Stored::twin).orElseGet(() -> Twin.empty(id, now));
        long before = twin.revision();
        Map<String, Object> deltaBefore = twin.delta();
        Map<String, Object> changes = new LinkedHashMap<>();
        // A path set again by a later report of this write: its earlier value still goes into the history.
        Map<String, Long> revisions = new HashMap<>();
        Map<String, Instant> times = new HashMap<>();
        List<Outbox.Superseded> superseded = new ArrayList<>();
        for (ValidReport r : reports) {
            Map<String, Object> reported = twin.applyReported(r.features(), r.attributes(), r.sourceTime(), now);
            for (Map.Entry<String, Object> e : reported.entrySet()) {
                String path = e.getKey();
                if (changes.containsKey(path)) {
                    superseded.add(new Outbox.Superseded(path, changes.get(path), revisions.get(path), times.get(path)));
                }
                changes.put(path, e.getValue());
                if (reports.size() > 1) {
                    revisions.put(path, twin.revision());
                    times.put(path, TwinHistory.timeOf(twin, path, now));
                }
            }
        }
        if (changes.isEmpty()) {
            return new Merge.Unchanged();
        }
        long room = sizeLimit.room(twin);
        if (room < 0) {
            return new Merge.TooLarge();
        }
        TwinChanged change = new TwinChanged(UUID.randomUUID().toString(), id.toString(), twin.revision(), before,
                changes, now, reports.get(reports.size() - 1).eventId(), twin.delta());
        return new Merge.Planned(twin, before, history.outbox(change, twin, deltaBefore, superseded), room);
    }

    private Uni<Optional<TwinChanged>> write(ThingId id, Optional<Stored> found, List<ValidReport> reports,
            Context trace, int attempt) {
        return switch (merge(id, found, reports, clock.instant())) {
            case Merge.Unchanged u -> Uni.createFrom().item(Optional.empty());
            case Merge.TooLarge l -> overLimit(id, reports, trace);
            case Merge.Planned p -> {
                Uni<Boolean> write = found.isPresent() ? repository.replace(p.twin(), p.before(), p.outbox(), Copy.KEEP)
                        : repository.insert(p.twin(), p.outbox(), Copy.KEEP);
                yield write.chain(written -> {
                    if (written) {
                        roomNotices.written(p.twin(), p.room());
                        return delivery.deliver(p.outbox(), trace).replaceWith(Optional.of(p.outbox().change()));
                    }
                    if (attempt >= MAX_ATTEMPTS) {
                        return Uni.createFrom().failure(new IllegalStateException(
                                "twin " + id + " kept changing under a report; gave up after " + attempt + " attempts"));
                    }
                    return attempt(id, reports, trace, attempt + 1);
                });
            }
        };
    }
}

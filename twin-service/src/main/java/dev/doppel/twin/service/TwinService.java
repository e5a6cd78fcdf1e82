package dev.doppel.twin.service;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.ReportValidator;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.repository.TwinRepository;
import dev.doppel.twin.repository.TwinRepository.Stored;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Applies device reports to twins: read, merge newer values, one conditional write, retry on a lost
 * race. Several reports for one twin (a consumed batch) are merged into that one write. The write
 * carries its change and history in the twin document ({@link Outbox}); they are delivered after it,
 * and finished by the next writer if this one stops first ({@link ChangeDelivery}).
 */
@ApplicationScoped
public class TwinService {

    private static final Logger LOG = Logger.getLogger(TwinService.class);

    static final int MAX_ATTEMPTS = 16;

    private final TwinRepository repository;
    private final TwinHistory history;
    private final ChangeDelivery delivery;
    private final TwinSizeLimit sizeLimit;
    private final Counter tooLarge;
    private final Clock clock;

    public TwinService(TwinRepository repository, TwinHistory history, ChangeDelivery delivery,
            TwinSizeLimit sizeLimit, MeterRegistry metrics) {
        this.repository = repository;
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
     * without end). Several are applied one at a time, so only those that would overgrow it are refused.
     */
    private Uni<Optional<TwinChanged>> overLimit(ThingId id, List<ValidReport> reports, Context trace) {
        if (reports.size() == 1) {
            tooLarge.increment();
            LOG.warnf("refused report %s for %s: it would grow the twin past doppel.twin.max-document-bytes",
                    reports.get(0).eventId(), id);
            return Uni.createFrom().item(Optional.empty());
        }
        return Multi.createFrom().iterable(reports)
                .onItem().transformToUniAndConcatenate(r -> attempt(id, List.of(r), trace, 1))
                .collect().asList()
                .map(changes -> changes.stream().filter(Optional::isPresent).reduce((a, b) -> b)
                        .orElse(Optional.empty()));
    }

    private Uni<Optional<TwinChanged>> write(ThingId id, Optional<Stored> found, List<ValidReport> reports,
            Context trace, int attempt) {
        Instant now = clock.instant();
        Twin twin = found.map(Stored::twin).orElseGet(() -> Twin.empty(id, now));
        long before = twin.revision();
        Map<String, Object> changes = new LinkedHashMap<>();
        for (ValidReport r : reports) {
            changes.putAll(twin.applyReported(r.features(), r.attributes(), r.sourceTime(), now));
        }
        if (changes.isEmpty()) {
            return Uni.createFrom().item(Optional.empty());
        }
        if (!sizeLimit.fits(twin)) {
            return overLimit(id, reports, trace);
        }
        TwinChanged change = new TwinChanged(UUID.randomUUID().toString(), id.toString(), twin.revision(), before,
                changes, now, reports.get(reports.size() - 1).eventId(), twin.delta());
        Outbox outbox = history.outbox(change, twin);
        Uni<Boolean> write = found.isPresent() ? repository.replace(twin, before, outbox)
                : repository.insert(twin, outbox);
        return write.chain(written -> {
            if (written) {
                return delivery.deliver(outbox, trace).replaceWith(Optional.of(change));
            }
            if (attempt >= MAX_ATTEMPTS) {
                return Uni.createFrom().failure(new IllegalStateException(
                        "twin " + id + " kept changing under a report; gave up after " + attempt + " attempts"));
            }
            return attempt(id, reports, trace, attempt + 1);
        });
    }
}

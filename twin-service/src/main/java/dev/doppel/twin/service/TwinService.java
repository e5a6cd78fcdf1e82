package dev.doppel.twin.service;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.ReportValidator;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.repository.TwinRepository;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Applies device reports to twins: read, merge newer values, conditional write, retry on a lost race. */
@ApplicationScoped
public class TwinService {

    static final int MAX_ATTEMPTS = 16;

    private final TwinRepository repository;
    private final Clock clock;

    public TwinService(TwinRepository repository) {
        this.repository = repository;
        this.clock = Clock.systemUTC();
    }

    public Uni<Optional<Twin>> find(ThingId id) {
        return repository.find(id);
    }

    /**
     * Applies a report. Returns the change to publish, or empty when nothing changed (a duplicate or
     * an older report). Throws {@link InvalidReport} for reports that must be rejected.
     */
    public Uni<Optional<TwinChanged>> applyReport(TelemetryReceived report) {
        ThingId id;
        try {
            id = ThingId.parse(report.thingId());
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(new InvalidReport("invalid-thing-id", e.getMessage()));
        }
        if (report.sourceTime() == null) {
            return Uni.createFrom().failure(new InvalidReport("missing-time", "report has no source time"));
        }
        Map<String, Map<String, Object>> features = new LinkedHashMap<>();
        Map<String, Object> attributes;
        try {
            if (report.features() != null) {
                report.features().forEach((featureId, props) -> {
                    ReportValidator.checkKey(featureId);
                    features.put(featureId, ReportValidator.normalise(props == null ? Map.of() : props));
                });
            }
            attributes = ReportValidator.normalise(report.attributes() == null ? Map.of() : report.attributes());
        } catch (InvalidReport e) {
            return Uni.createFrom().failure(e);
        }
        return attempt(id, features, attributes, report, 1);
    }

    private Uni<Optional<TwinChanged>> attempt(ThingId id, Map<String, Map<String, Object>> features,
            Map<String, Object> attributes, TelemetryReceived report, int attempt) {
        Instant now = clock.instant();
        return repository.find(id).chain(found -> {
            Twin twin = found.orElseGet(() -> Twin.empty(id, now));
            long before = twin.revision();
            Map<String, Object> changes = twin.applyReported(features, attributes, report.sourceTime(), now);
            if (changes.isEmpty()) {
                return Uni.createFrom().item(Optional.<TwinChanged>empty());
            }
            Uni<Boolean> write = found.isPresent() ? repository.replace(twin, before) : repository.insert(twin);
            return write.chain(written -> {
                if (written) {
                    return Uni.createFrom().item(Optional.of(new TwinChanged(UUID.randomUUID().toString(),
                            id.toString(), twin.revision(), before, changes, now, report.eventId())));
                }
                if (attempt >= MAX_ATTEMPTS) {
                    return Uni.createFrom().failure(new IllegalStateException(
                            "twin " + id + " kept changing under a report; gave up after " + attempt + " attempts"));
                }
                return attempt(id, features, attributes, report, attempt + 1);
            });
        });
    }
}

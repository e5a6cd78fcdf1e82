package dev.doppel.twin.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.service.TwinService;
import dev.doppel.twin.service.TwinService.ValidReport;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Consumes device reports ({@code dt.device-telemetry}, {@code dt.device-events}) in batches and
 * applies them to twins: the reports of one twin in their Kafka order with one write, different
 * twins concurrently. A batch is acknowledged (its offsets committed) only after every twin was
 * written and every change published, so a crash re-delivers it, and the source-time check makes
 * that harmless.
 */
@ApplicationScoped
public class TelemetryConsumer {

    private static final Logger LOG = Logger.getLogger(TelemetryConsumer.class);
    private static final int TWINS_IN_PARALLEL = 32;

    private final TwinService twins;
    private final TwinChangePublisher publisher;
    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public TelemetryConsumer(TwinService twins, TwinChangePublisher publisher, ObjectMapper json,
            MeterRegistry metrics) {
        this.twins = twins;
        this.publisher = publisher;
        this.json = json;
        this.metrics = metrics;
    }

    @Incoming("device-telemetry")
    public Uni<Void> consume(ConsumerRecords<String, byte[]> batch) {
        Map<String, List<ValidReport>> byTwin = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            ValidReport report = accept(record);
            if (report != null) {
                byTwin.computeIfAbsent(report.thingId().toString(), k -> new ArrayList<>()).add(report);
            }
        }
        if (byTwin.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Multi.createFrom().iterable(byTwin.values())
                .onItem().transformToUni(this::applyToOneTwin).merge(TWINS_IN_PARALLEL)
                .collect().last().replaceWithVoid();
    }

    private Uni<Void> applyToOneTwin(List<ValidReport> reports) {
        return twins.apply(reports.get(0).thingId(), reports)
                .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8)
                .chain(change -> {
                    if (change.isEmpty()) {
                        metrics.counter("doppel.twin.reports", "outcome", "unchanged").increment(reports.size());
                        return Uni.createFrom().voidItem();
                    }
                    metrics.counter("doppel.twin.reports", "outcome", "applied").increment(reports.size());
                    return publisher.publish(change.get());
                });
    }

    /** Parses and validates one record; a report that cannot be applied is counted, logged and skipped. */
    private ValidReport accept(ConsumerRecord<String, byte[]> record) {
        String type = header(record, "ce_type");
        if (!EventTypes.TELEMETRY_RECEIVED.equals(type) && !EventTypes.DEVICE_EVENT_RECEIVED.equals(type)) {
            metrics.counter("doppel.twin.reports", "outcome", "ignored-type").increment();
            return null;
        }
        try {
            return twins.validate(json.readValue(record.value(), TelemetryReceived.class));
        } catch (InvalidReport e) {
            reject(record, e.reason(), e.getMessage());
        } catch (IOException | RuntimeException e) {
            reject(record, "malformed-event", e.getClass().getSimpleName());
        }
        return null;
    }

    private void reject(ConsumerRecord<String, byte[]> record, String reason, String detail) {
        metrics.counter("doppel.twin.reports.rejected", "reason", reason).increment();
        LOG.warnf("rejected report %s for %s (partition %d, offset %d): %s: %s", header(record, "ce_id"),
                record.key(), record.partition(), record.offset(), reason, detail);
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}

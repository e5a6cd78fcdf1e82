package dev.doppel.twin.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.service.TwinService;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Consumes device reports ({@code dt.device-telemetry}) and applies them to twins. A record is
 * acknowledged (its offset committed) only after the twin was written and the change published,
 * so a crash re-delivers it, and the source-time check makes that harmless.
 */
@ApplicationScoped
public class TelemetryConsumer {

    private static final Logger LOG = Logger.getLogger(TelemetryConsumer.class);

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
    public Uni<Void> consume(ConsumerRecord<String, byte[]> record) {
        String type = header(record, "ce_type");
        if (!EventTypes.TELEMETRY_RECEIVED.equals(type) && !EventTypes.DEVICE_EVENT_RECEIVED.equals(type)) {
            metrics.counter("doppel.twin.reports", "outcome", "ignored-type").increment();
            return Uni.createFrom().voidItem();
        }
        TelemetryReceived report;
        try {
            report = json.readValue(record.value(), TelemetryReceived.class);
        } catch (IOException | RuntimeException e) {
            return reject(record, "malformed-event", e.getClass().getSimpleName());
        }
        return twins.applyReport(report)
                .onFailure(t -> !(t instanceof InvalidReport))
                .retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8)
                .chain(change -> {
                    if (change.isEmpty()) {
                        metrics.counter("doppel.twin.reports", "outcome", "unchanged").increment();
                        return Uni.createFrom().voidItem();
                    }
                    metrics.counter("doppel.twin.reports", "outcome", "applied").increment();
                    return publisher.publish(change.get());
                })
                .onFailure(InvalidReport.class)
                .recoverWithUni(t -> reject(record, ((InvalidReport) t).reason(), t.getMessage()));
    }

    /** Logs (without the payload) and counts a report that cannot be applied, then skips it. */
    private Uni<Void> reject(ConsumerRecord<String, byte[]> record, String reason, String detail) {
        metrics.counter("doppel.twin.reports.rejected", "reason", reason).increment();
        LOG.warnf("rejected report %s for %s (partition %d, offset %d): %s: %s", header(record, "ce_id"),
                record.key(), record.partition(), record.offset(), reason, detail);
        return Uni.createFrom().voidItem();
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}

package dev.doppel.twin.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.support.messaging.EventRecords;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.service.TwinService;
import dev.doppel.twin.service.TwinService.TwinReports;
import dev.doppel.twin.service.TwinService.ValidReport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Consumes device reports ({@code dt.device-telemetry}, {@code dt.device-events}) in batches and
 * applies them to twins: the reports of one twin in their Kafka order with one write, the batch's
 * twins together ({@link TwinService#applyAll}: one read, one bulk write, one history insert). A batch is acknowledged (its offsets committed) only after every twin was
 * written and every change published and recorded, so a crash re-delivers it: the source-time check
 * makes the repeated reports harmless, and the repeated write finishes what the crash interrupted.
 *
 * <p>Each twin write is a span in the trace of the device message that caused it: its parent comes
 * from the record's {@code traceparent} header, and the other records of the batch for that twin are
 * links. {@code doppel.twin.write} times the writes: per twin by outcome, and per batch
 * ({@code outcome="batch"}).
 */
@ApplicationScoped
public class TelemetryConsumer {

    private static final Logger LOG = Logger.getLogger(TelemetryConsumer.class);

    private final TwinService twins;
    private final ObjectMapper json;
    private static final TextMapGetter<ConsumerRecord<?, ?>> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(ConsumerRecord<?, ?> record) {
            List<String> keys = new ArrayList<>();
            record.headers().forEach(h -> keys.add(h.key()));
            return keys;
        }

        @Override
        public String get(ConsumerRecord<?, ?> record, String key) {
            return record == null ? null : EventRecords.header(record, key);
        }
    };

    private final MeterRegistry metrics;
    private final Map<String, Timer> writeTimers = new ConcurrentHashMap<>();
    private final TextMapPropagator propagator;
    private final Tracer tracer;

    /** The reports of one twin in a batch, and the traces they came with. */
    private record Batch(List<ValidReport> reports, List<Context> causes) {
    }

    public TelemetryConsumer(TwinService twins, ObjectMapper json,
            MeterRegistry metrics, OpenTelemetry telemetry, Tracer tracer) {
        this.twins = twins;
        this.json = json;
        this.metrics = metrics;
        this.propagator = telemetry.getPropagators().getTextMapPropagator();
        this.tracer = tracer;
    }

    @Incoming("device-telemetry")
    public Uni<Void> consume(ConsumerRecords<String, byte[]> batch) {
        Map<String, Batch> byTwin = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> record : batch) {
            ValidReport report = accept(record);
            if (report != null) {
                Batch b = byTwin.computeIfAbsent(report.thingId().toString(),
                        k -> new Batch(new ArrayList<>(), new ArrayList<>()));
                b.reports().add(report);
                b.causes().add(propagator.extract(Context.root(), record, HEADERS));
            }
        }
        if (byTwin.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<TwinReports> writes = new ArrayList<>(byTwin.size());
        List<Span> spans = new ArrayList<>(byTwin.size());
        for (Batch b : byTwin.values()) {
            Span span = writeSpan(b.reports().get(0).thingId().toString(), b.reports().size(), b.causes());
            spans.add(span);
            writes.add(new TwinReports(b.reports().get(0).thingId(), b.reports(), Context.root().with(span)));
        }
        Timer.Sample started = Timer.start(metrics);
        return twins.applyAll(writes)
                .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).atMost(8)
                .onItemOrFailure().invoke((changes, failure) -> {
                    long nanos = started.stop(writeTimer("batch"));
                    for (int i = 0; i < writes.size(); i++) {
                        String outcome = failure != null ? "failed" : changes.get(i).isEmpty() ? "unchanged" : "applied";
                        writeTimer(outcome).record(nanos, TimeUnit.NANOSECONDS);
                        Span span = spans.get(i);
                        if (failure != null) {
                            span.setStatus(StatusCode.ERROR, failure.getMessage());
                        } else {
                            metrics.counter("doppel.twin.reports", "outcome", outcome)
                                    .increment(writes.get(i).reports().size());
                        }
                        span.setAttribute("doppel.outcome", outcome);
                        span.end();
                    }
                })
                .replaceWithVoid();
    }

    private Timer writeTimer(String outcome) {
        return writeTimers.computeIfAbsent(outcome, o -> Timer.builder("doppel.twin.write")
                .tag("outcome", o).publishPercentileHistogram().register(metrics));
    }

    /** The write's span: a child of the first report's trace, linked to the others. */
    private Span writeSpan(String thingId, int reports, List<Context> causes) {
        SpanBuilder builder = tracer.spanBuilder("twin write")
                .setSpanKind(SpanKind.INTERNAL)
                .setParent(causes.get(0))
                .setAttribute("doppel.thing_id", thingId)
                .setAttribute("doppel.reports", reports);
        for (int i = 1; i < causes.size(); i++) {
            Span cause = Span.fromContext(causes.get(i));
            if (cause.getSpanContext().isValid()) {
                builder.addLink(cause.getSpanContext());
            }
        }
        return builder.startSpan();
    }

    /** Parses and validates one record; a report that cannot be applied is counted, logged and skipped. */
    private ValidReport accept(ConsumerRecord<String, byte[]> record) {
        String type = EventRecords.header(record, "ce_type");
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
        LOG.warnf("rejected report %s for %s (partition %d, offset %d): %s: %s", EventRecords.header(record, "ce_id"),
                record.key(), record.partition(), record.offset(), reason, detail);
    }
}

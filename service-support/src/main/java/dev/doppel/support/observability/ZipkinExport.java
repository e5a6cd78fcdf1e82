package dev.doppel.support.observability;

import io.opentelemetry.exporter.zipkin.ZipkinSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Collection;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import zipkin2.reporter.urlconnection.URLConnectionSender;

/**
 * Sends every finished span to a Zipkin server when {@code doppel.tracing.zipkin-endpoint} is set
 * (the local run's trace viewer, {@code ./doppel run --traces}). Quarkus combines all span
 * exporter beans, so this runs beside the OTLP exporter that production points at its collector.
 */
public class ZipkinExport {

    private static final Logger LOG = Logger.getLogger(ZipkinExport.class);

    @Produces
    @Singleton
    SpanExporter zipkin(@ConfigProperty(name = "doppel.tracing.zipkin-endpoint") Optional<String> endpoint) {
        if (endpoint.isEmpty() || endpoint.get().isBlank()) {
            return new Disabled();
        }
        LOG.infof("traces go to Zipkin at %s", endpoint.get());
        return ZipkinSpanExporter.builder().setSender(URLConnectionSender.create(endpoint.get())).build();
    }

    /** No Zipkin configured: spans go only where the other exporters send them. */
    private static final class Disabled implements SpanExporter {
        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }
}

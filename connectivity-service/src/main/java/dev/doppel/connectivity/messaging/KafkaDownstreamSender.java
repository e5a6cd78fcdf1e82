package dev.doppel.connectivity.messaging;

import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.RegistryChanged;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.support.messaging.EventMessages;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.TracingMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * {@link DownstreamSender} on Kafka: CloudEvents in binary mode, keyed by thing id. Each device
 * report starts a trace (or joins the caller's, such as an HTTP request's): its span is the parent of
 * the Kafka producer span, whose {@code traceparent} header carries it on to twin-service.
 */
@ApplicationScoped
public class KafkaDownstreamSender implements DownstreamSender {

    /** The header of a handed-over command that names the instance it is for. */
    public static final String ROUTE_TO = "doppel-route-to";

    private final MutinyEmitter<TelemetryReceived> telemetry;
    private final MutinyEmitter<TelemetryReceived> events;
    private final MutinyEmitter<DeviceConnectionChanged> connections;
    private final MutinyEmitter<CommandStatusChanged> commandStatus;
    private final MutinyEmitter<DeviceLifecycleChanged> devices;
    private final MutinyEmitter<CommandRequested> routes;
    private final MutinyEmitter<RegistryChanged> registryChanges;
    private final Tracer tracer;

    public KafkaDownstreamSender(Tracer tracer,
            @Channel("device-telemetry") MutinyEmitter<TelemetryReceived> telemetry,
            @Channel("device-events") MutinyEmitter<TelemetryReceived> events,
            @Channel("device-connections") MutinyEmitter<DeviceConnectionChanged> connections,
            @Channel("command-status") MutinyEmitter<CommandStatusChanged> commandStatus,
            @Channel("devices") MutinyEmitter<DeviceLifecycleChanged> devices,
            @Channel("command-routes-out") MutinyEmitter<CommandRequested> routes,
            @Channel("registry-changes-out") MutinyEmitter<RegistryChanged> registryChanges) {
        this.registryChanges = registryChanges;
        this.telemetry = telemetry;
        this.events = events;
        this.connections = connections;
        this.commandStatus = commandStatus;
        this.devices = devices;
        this.routes = routes;
        this.tracer = tracer;
    }

    @Override
    public Uni<Void> deviceLifecycle(DeviceLifecycleChanged change) {
        return devices.sendMessage(EventMessages.of(change, "/connectivity/registry"));
    }

    @Override
    public Uni<Void> report(TelemetryReceived report) {
        MutinyEmitter<TelemetryReceived> emitter = TelemetryReceived.EVENT.equals(report.channel()) ? events : telemetry;
        Span span = tracer.spanBuilder(report.transport() + " " + report.channel())
                .setSpanKind(SpanKind.SERVER)
                .setAttribute("messaging.system", report.transport())
                .setAttribute("doppel.thing_id", report.thingId())
                .setAttribute("doppel.channel", report.channel())
                .setAttribute("doppel.event_id", report.eventId())
                .startSpan();
        Message<TelemetryReceived> message = EventMessages.of(report, "/connectivity/" + report.transport())
                .addMetadata(TracingMetadata.withCurrent(Context.current().with(span)));
        return emitter.sendMessage(message)
                .onItemOrFailure().invoke((ok, failure) -> {
                    if (failure != null) {
                        span.setStatus(StatusCode.ERROR, failure.getMessage());
                    }
                    span.end();
                });
    }

    @Override
    public Uni<Void> connection(DeviceConnectionChanged change) {
        return connections.sendMessage(EventMessages.of(change, "/connectivity/" + change.transport()));
    }

    @Override
    public Uni<Void> commandStatus(CommandStatusChanged status) {
        return commandStatus.sendMessage(EventMessages.of(status, "/connectivity/" + status.source()));
    }

    @Override
    public Uni<Void> registryChange(RegistryChanged change) {
        return registryChanges.sendMessage(EventMessages.of(change, "/connectivity/registry"));
    }

    @Override
    public Uni<Void> handOver(String instance, CommandRequested command) {
        return routes.sendMessage(EventMessages.of(command, "/connectivity/router",
                new RecordHeader(ROUTE_TO, instance.getBytes(StandardCharsets.UTF_8))));
    }
}

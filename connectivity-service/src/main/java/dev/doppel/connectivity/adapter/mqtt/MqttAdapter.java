package dev.doppel.connectivity.adapter.mqtt;

import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.config.MqttAdapterConfig;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.DeviceLogin;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.ThingId;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttAuth;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * The MQTT 3.1.1 server devices connect to, with Eclipse Hono's topics and username/password
 * authentication ({@code auth-id@tenant}) against the device registry.
 */
@ApplicationScoped
public class MqttAdapter {

    static final Logger LOG = Logger.getLogger(MqttAdapter.class);

    private final Vertx vertx;
    private final MqttAdapterConfig config;
    private final DeviceLogin login;
    private final DownstreamSender downstream;
    private final PayloadMappings mappings;
    private final DeviceRegistry registry;
    private final CommandRouter router;
    private final MeterRegistry metrics;
    private final AtomicInteger connections = new AtomicInteger();
    private volatile MqttServer server;
    private volatile MqttServer tlsServer;

    public MqttAdapter(Vertx vertx, MqttAdapterConfig config, DeviceLogin login, DownstreamSender downstream,
            PayloadMappings mappings, DeviceRegistry registry, CommandRouter router, MeterRegistry metrics) {
        this.vertx = vertx;
        this.config = config;
        this.login = login;
        this.downstream = downstream;
        this.mappings = mappings;
        this.registry = registry;
        this.router = router;
        this.metrics = metrics;
        metrics.gauge("doppel.mqtt.connections", connections);
    }

    void start(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            return;
        }
        server = listen(options().setPort(config.port()));
        LOG.infof("MQTT adapter listening on %s:%d", config.host(), server.actualPort());
        if (config.tls().enabled()) {
            String cert = config.tls().certPath().orElseThrow(
                    () -> new IllegalStateException("doppel.mqtt.tls.enabled needs doppel.mqtt.tls.cert-path"));
            String key = config.tls().keyPath().orElseThrow(
                    () -> new IllegalStateException("doppel.mqtt.tls.enabled needs doppel.mqtt.tls.key-path"));
            tlsServer = listen(options().setPort(config.tls().port()).setSsl(true)
                    .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert).setKeyPath(key)));
            LOG.infof("MQTT adapter listening for TLS on %s:%d", config.host(), tlsServer.actualPort());
        }
    }

    private MqttServerOptions options() {
        return new MqttServerOptions()
                .setHost(config.host())
                // Headroom for the topic and headers; the payload limit itself is checked per message.
                .setMaxMessageSize(config.maxPayloadBytes() + 8 * 1024)
                .setTimeoutOnConnect(config.connectTimeoutSeconds());
    }

    /** Both listeners share the same sessions, authentication and limits; only the transport differs. */
    private MqttServer listen(MqttServerOptions options) {
        MqttServer s = MqttServer.create(vertx, options)
                .endpointHandler(this::onConnect)
                .exceptionHandler(t -> LOG.debugf("MQTT server error: %s", t.getMessage()));
        s.listen().toCompletionStage().toCompletableFuture().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS)
                .join();
        return s;
    }

    void stop(@Observes ShutdownEvent ev) {
        for (MqttServer s : new MqttServer[] {server, tlsServer}) {
            if (s != null) {
                s.close().toCompletionStage().toCompletableFuture().completeOnTimeout(null, 5,
                        java.util.concurrent.TimeUnit.SECONDS).join();
            }
        }
    }

    public boolean isListening() {
        return server != null && server.actualPort() > 0;
    }

    public int port() {
        return server == null ? -1 : server.actualPort();
    }

    /** The TLS listener's port, or -1 when TLS is off. */
    public int tlsPort() {
        return tlsServer == null ? -1 : tlsServer.actualPort();
    }

    private void onConnect(MqttEndpoint endpoint) {
        Context ctx = vertx.getOrCreateContext();
        MqttAuth auth = endpoint.auth();
        if (auth == null || auth.getUsername() == null || auth.getPassword() == null) {
            refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "no-credentials", null);
            return;
        }
        String username = auth.getUsername();
        login.login(username, auth.getPassword())
                .emitOn(r -> ctx.runOnContext(v -> r.run()))
                .subscribe().with(result -> {
                    switch (result.outcome()) {
                        case OK -> resolveMapping(endpoint, ctx, result.device());
                        case BAD_USERNAME -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD, "bad-username",
                                username);
                        case THROTTLED -> refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED,
                                "throttled", username);
                        case DEVICE_DISABLED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "device-disabled", username);
                        case TENANT_DISABLED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "tenant-disabled", username);
                        case BAD_CREDENTIALS -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD, "bad-credentials",
                                username);
                    }
                }, failure -> {
                    LOG.warnf("registry unavailable while authenticating %s: %s", username, failure.getMessage());
                    endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
                });
    }

    /** The connection keeps the payload mapping its device had when it connected. */
    private void resolveMapping(MqttEndpoint endpoint, Context ctx, ThingId device) {
        mappings.forDevice(device).emitOn(r -> ctx.runOnContext(v -> r.run())).subscribe().with(
                mapper -> accept(endpoint, ctx, device, mapper), failure -> {
                    LOG.warnf("registry unavailable while connecting %s: %s", device, failure.getMessage());
                    endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
                });
    }

    private void accept(MqttEndpoint endpoint, Context ctx, ThingId device, PayloadMappings.DeviceMapper mapper) {
        MqttDeviceSession session = new MqttDeviceSession(endpoint, ctx, device, config, downstream, mapper,
                mappings, registry, router, metrics);
        session.attach();
        endpoint.accept(false);
        connections.incrementAndGet();
        endpoint.closeHandler(v -> {
            connections.decrementAndGet();
            session.closed();
        });
        metrics.counter("doppel.mqtt.connects", "outcome", "accepted").increment();
    }

    private void refuse(MqttEndpoint endpoint, MqttConnectReturnCode code, String reason, String username) {
        metrics.counter("doppel.mqtt.connects", "outcome", reason).increment();
        LOG.infof("refused MQTT connection from %s (client id '%s', username '%s'): %s", endpoint.remoteAddress(),
                endpoint.clientIdentifier(), username, reason);
        endpoint.reject(code);
    }
}

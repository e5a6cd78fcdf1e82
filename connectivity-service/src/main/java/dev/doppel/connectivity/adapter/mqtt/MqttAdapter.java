package dev.doppel.connectivity.adapter.mqtt;

import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.config.MqttAdapterConfig;
import dev.doppel.connectivity.limits.DeviceLimits;
import dev.doppel.connectivity.limits.RefusalLog;
import dev.doppel.connectivity.limits.SourceRates;
import dev.doppel.connectivity.limits.TwinRooms;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.CertificateLogin;
import dev.doppel.connectivity.registry.DeviceLogin;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.RegistryChanged;
import dev.doppel.contracts.ThingId;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.TrustOptions;
import io.vertx.mqtt.MqttAuth;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jboss.logging.Logger;

/**
 * The MQTT 3.1.1 server devices connect to, with Eclipse Hono's topics and username/password
 * authentication ({@code auth-id@tenant}) against the device registry; on the TLS listener also
 * X.509 client certificates issued by a tenant's trusted CA ({@link CertificateLogin}).
 */
@ApplicationScoped
public class MqttAdapter {

    static final Logger LOG = Logger.getLogger(MqttAdapter.class);

    /** The refusal reason of a connection over its source's allowance ({@link SourceRates}). */
    static final String SOURCE_RATE = "source-rate";

    private final Vertx vertx;
    private final MqttAdapterConfig config;
    private final DeviceLogin login;
    private final CertificateLogin certificateLogin;
    private final DownstreamSender downstream;
    private final PayloadMappings mappings;
    private final DeviceRegistry registry;
    private final DeviceLimits limits;
    private final TwinRooms rooms;
    private final CommandRouter router;
    private final MeterRegistry metrics;
    private final SourceRates sourceRates;
    private final RefusalLog refusals;
    private final AtomicInteger connections = new AtomicInteger();
    /** The connections held here, by device: what a registry change may end. */
    private final Map<ThingId, Set<MqttDeviceSession>> live = new ConcurrentHashMap<>();
    private volatile MqttServer server;
    private volatile MqttServer tlsServer;

    public MqttAdapter(Vertx vertx, MqttAdapterConfig config, DeviceLogin login, CertificateLogin certificateLogin,
            DownstreamSender downstream, PayloadMappings mappings, DeviceRegistry registry, DeviceLimits limits,
            TwinRooms rooms, CommandRouter router, MeterRegistry metrics, SourceRates sourceRates, RefusalLog refusals) {
        this.vertx = vertx;
        this.rooms = rooms;
        this.refusals = refusals;
        this.sourceRates = sourceRates;
        this.config = config;
        this.login = login;
        this.certificateLogin = certificateLogin;
        this.downstream = downstream;
        this.mappings = mappings;
        this.registry = registry;
        this.limits = limits;
        this.router = router;
        this.metrics = metrics;
        metrics.gauge("doppel.mqtt.connections", connections);
    }

    void start(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            return;
        }
        if (!config.plain() && !config.tls().enabled()) {
            throw new IllegalStateException("doppel.mqtt.plain=false needs doppel.mqtt.tls.enabled=true: "
                    + "MQTT would listen nowhere");
        }
        if (config.plain()) {
            server = listen(options().setPort(config.port()));
            LOG.infof("MQTT adapter listening on %s:%d", config.host(), server.actualPort());
        }
        if (config.tls().enabled()) {
            String cert = config.tls().certPath().orElseThrow(
                    () -> new IllegalStateException("doppel.mqtt.tls.enabled needs doppel.mqtt.tls.cert-path"));
            String key = config.tls().keyPath().orElseThrow(
                    () -> new IllegalStateException("doppel.mqtt.tls.enabled needs doppel.mqtt.tls.key-path"));
            MqttServerOptions tls = options().setPort(config.tls().port()).setSsl(true)
                    .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert).setKeyPath(key));
            if (config.tls().clientCertificates()) {
                // Any certificate passes the handshake; onConnect decides against the tenants' CAs.
                tls.setClientAuth(ClientAuth.REQUEST).setTrustOptions(TrustOptions.wrap(new DeferredClientTrust()));
            }
            tlsServer = listen(tls);
            LOG.infof("MQTT adapter listening for TLS on %s:%d%s", config.host(), tlsServer.actualPort(),
                    config.tls().clientCertificates() ? " (client certificates requested)" : "");
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

    /** Every listener configured is up (the plain one, the TLS one, or both). */
    public boolean isListening() {
        return (!config.plain() || server != null && server.actualPort() > 0)
                && (!config.tls().enabled() || tlsServer != null && tlsServer.actualPort() > 0);
    }

    /** The plain listener's port, or -1 when it is off. */
    public int port() {
        return server == null ? -1 : server.actualPort();
    }

    /** The TLS listener's port, or -1 when TLS is off. */
    public int tlsPort() {
        return tlsServer == null ? -1 : tlsServer.actualPort();
    }

    /**
     * A CONNECT with a user name and password is a password login, over TLS too, whatever certificate
     * the client showed; one without is a certificate login when the client showed one.
     */
    private void onConnect(MqttEndpoint endpoint) {
        if (!sourceRates.admit(source(endpoint), SourceRates.Limit.CONNECT)) {
            refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, SOURCE_RATE, null);
            return;
        }
        Context ctx = vertx.getOrCreateContext();
        MqttAuth auth = endpoint.auth();
        if (isPasswordLogin(auth)) {
            passwordLogin(endpoint, ctx, auth);
            return;
        }
        Certificate[] chain = clientCertificates(endpoint);
        if (chain != null) {
            certificateLogin(endpoint, ctx, chain);
            return;
        }
        refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "no-credentials", null);
    }

    private static boolean isPasswordLogin(MqttAuth auth) {
        return auth != null && auth.getUsername() != null && auth.getPassword() != null;
    }

    /** The chain a connection logged in with, or null for a password login. */
    static Certificate[] loginCertificates(MqttEndpoint endpoint) {
        return isPasswordLogin(endpoint.auth()) ? null : clientCertificates(endpoint);
    }

    /** The chain the client presented in the TLS handshake, or null. */
    private static Certificate[] clientCertificates(MqttEndpoint endpoint) {
        if (!endpoint.isSsl()) {
            return null;
        }
        SSLSession session = endpoint.sslSession();
        try {
            return session == null ? null : session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null; // none presented
        }
    }

    private void certificateLogin(MqttEndpoint endpoint, Context ctx, Certificate[] chain) {
        certificateLogin.login(chain)
                .emitOn(r -> ctx.runOnContext(v -> r.run()))
                .subscribe().with(result -> {
                    String who = result.subjectDn() == null ? "certificate"
                            : "certificate '" + result.subjectDn() + "' issued by '" + result.issuerDn() + "'";
                    switch (result.outcome()) {
                        case OK -> admit(endpoint, ctx, result.device());
                        case UNTRUSTED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                                "untrusted-certificate", who);
                        case EXPIRED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                                "certificate-expired", who);
                        case NOT_YET_VALID -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                                "certificate-not-yet-valid", who);
                        case REVOKED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                                "certificate-revoked", who);
                        case UNKNOWN_SUBJECT -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                                "unknown-certificate", who);
                        case DEVICE_DISABLED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "device-disabled", who);
                        case TENANT_DISABLED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "tenant-disabled", who);
                    }
                }, failure -> {
                    LOG.warnf("registry unavailable while authenticating a client certificate: %s",
                            failure.getMessage());
                    refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, "registry-unavailable",
                            null);
                });
    }

    private void passwordLogin(MqttEndpoint endpoint, Context ctx, MqttAuth auth) {
        String username = auth.getUsername();
        String who = "username '" + clip(username) + "'";
        login.login(username, auth.getPassword(), source(endpoint))
                .emitOn(r -> ctx.runOnContext(v -> r.run()))
                .subscribe().with(result -> {
                    switch (result.outcome()) {
                        case OK -> admit(endpoint, ctx, result.device());
                        case BAD_USERNAME -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD, "bad-username",
                                who);
                        case THROTTLED -> refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED,
                                "throttled", who);
                        case DEVICE_DISABLED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "device-disabled", who);
                        case TENANT_DISABLED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "tenant-disabled", who);
                        case BAD_CREDENTIALS -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD, "bad-credentials",
                                who);
                        case BUSY -> refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
                                "busy", who);
                        case RATE_LIMITED -> refuse(endpoint,
                                MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, SOURCE_RATE, who);
                    }
                }, failure -> {
                    LOG.warnf("registry unavailable while authenticating %s: %s", username, failure.getMessage());
                    refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, "registry-unavailable",
                            null);
                });
    }

    /** The connection keeps the payload mapping its device had when it connected. */
    /**
     * An authenticated device is admitted within its tenant's connection limit, and its connection
     * keeps the payload mapping and the limits its device had when it connected.
     */
    private void admit(MqttEndpoint endpoint, Context ctx, ThingId device) {
        limits.forTenant(device.tenant()).chain(tenantLimits -> limits.reserveConnection(device, tenantLimits)
                .chain(allowed -> !allowed ? Uni.createFrom().<MqttDeviceSession.Settings>nullItem()
                        : mappings.forDevice(device).map(mapper -> new MqttDeviceSession.Settings(mapper, tenantLimits))
                                .onFailure().invoke(() -> limits.disconnected(device.tenant()))))
                .emitOn(r -> ctx.runOnContext(v -> r.run())).subscribe().with(settings -> {
                    if (settings == null) {
                        refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, "connection-limit",
                                device.toString());
                    } else {
                        accept(endpoint, ctx, device, settings);
                    }
                }, failure -> {
                    LOG.warnf("registry unavailable while connecting %s: %s", device, failure.getMessage());
                    refuse(endpoint, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, "registry-unavailable",
                            null);
                });
    }

    private void accept(MqttEndpoint endpoint, Context ctx, ThingId device, MqttDeviceSession.Settings settings) {
        MqttDeviceSession session = new MqttDeviceSession(endpoint, ctx, device, config, downstream, settings,
                mappings, registry, limits, rooms, router, metrics, refusals);
        session.attach();
        endpoint.accept(false);
        connections.incrementAndGet();
        live.computeIfAbsent(device, d -> ConcurrentHashMap.newKeySet()).add(session);
        endpoint.closeHandler(v -> {
            connections.decrementAndGet();
            live.computeIfPresent(device, (d, held) -> held.remove(session) && held.isEmpty() ? null : held);
            limits.disconnected(device.tenant());
            session.closed();
        });
        metrics.counter("doppel.mqtt.connects", "outcome", "accepted").increment();
    }

    /**
     * A registry change may mean that devices connected here would not be let in now: their
     * connections end (MQTT 5: DISCONNECT {@code 0x87} with the reason). Changed credentials end the
     * device's connections (they log in again with what is valid now: a password is not kept to be
     * checked again); a device or tenant disabled or deleted ends theirs; changed trusted CAs or
     * revocation lists end the tenant's certificate logins whose certificate would now be refused.
     */
    void registryChanged(@Observes RegistryChanged change) {
        ThingId device = change.thingId() == null ? null : ThingId.parse(change.thingId());
        switch (change.what()) {
            case RegistryChanged.CREDENTIALS -> sessionsOf(device).forEach(s -> s.end("credentials-changed",
                    "the device's credentials changed; log in again"));
            case RegistryChanged.DEVICE -> endUnlessEnabled(sessionsOf(device));
            case RegistryChanged.TENANT -> endUnlessEnabled(sessionsOfTenant(change.tenant()));
            case RegistryChanged.TRUST -> sessionsOfTenant(change.tenant()).forEach(this::checkCertificateAgain);
            default -> {
                // a kind this version does not know: nothing to look at
            }
        }
    }

    private List<MqttDeviceSession> sessionsOf(ThingId device) {
        Set<MqttDeviceSession> held = device == null ? null : live.get(device);
        return held == null ? List.of() : List.copyOf(held);
    }

    private List<MqttDeviceSession> sessionsOfTenant(String tenant) {
        List<MqttDeviceSession> out = new ArrayList<>();
        live.forEach((device, held) -> {
            if (device.tenant().equals(tenant)) {
                out.addAll(held);
            }
        });
        return out;
    }

    /** Ends each connection whose device is no longer enabled (or is gone, or its tenant disabled). */
    private void endUnlessEnabled(List<MqttDeviceSession> sessions) {
        sessions.stream().map(MqttDeviceSession::device).distinct().forEach(device -> registry.status(device)
                .subscribe().with(status -> {
                    if (status != DeviceRegistry.Status.ENABLED) {
                        String reason = status == DeviceRegistry.Status.TENANT_DISABLED ? "tenant-disabled"
                                : "device-disabled";
                        sessions.stream().filter(s -> s.device().equals(device))
                                .forEach(s -> s.end(reason, "the device is " + status.name().toLowerCase(Locale.ROOT)
                                        .replace('_', ' ') + " in the registry"));
                    }
                }, failure -> LOG.warnf("registry unavailable while checking %s after a change: %s", device,
                        failure.getMessage())));
    }

    /** A certificate login is checked again as at connect; one that would be refused now ends. */
    private void checkCertificateAgain(MqttDeviceSession session) {
        Certificate[] chain = session.loginCertificates();
        if (chain == null) {
            return; // a password login
        }
        certificateLogin.login(chain).subscribe().with(result -> {
            if (result.outcome() != CertificateLogin.Outcome.OK || !session.device().equals(result.device())) {
                session.end("certificate-refused", "its certificate would be refused now ("
                        + result.outcome().name().toLowerCase(Locale.ROOT).replace('_', '-') + ")");
            }
        }, failure -> LOG.warnf("registry unavailable while checking the certificate of %s after a change: %s",
                session.device(), failure.getMessage()));
    }

    /**
     * {@code code}: MQTT 3.1.1's; an MQTT 5 client gets its MQTT 5 counterpart and the reason as its
     * reason string. {@code who}: the username or the certificate the client logged in with, for the
     * log; null if neither.
     */
    private void refuse(MqttEndpoint endpoint, MqttConnectReturnCode code, String reason, String who) {
        metrics.counter("doppel.mqtt.connects", "outcome", reason).increment();
        if (!SOURCE_RATE.equals(reason)) { // SourceRates logs those, at most once a minute per source
            // Each is counted; the log has the first of each source address per interval, so that a
            // stranger trying logins from many ports cannot fill it.
            refusals.log(LOG, "connections from " + source(endpoint),
                    "refused MQTT connection from %s (client id '%s', MQTT %s%s): %s", endpoint.remoteAddress(),
                    clip(endpoint.clientIdentifier()), Mqtt5.speaks5(endpoint) ? "5" : "3.1.1",
                    who == null ? "" : ", " + who, reason);
        }
        if (Mqtt5.speaks5(endpoint)) {
            endpoint.reject(Mqtt5.connack(endpoint, code, reason), Mqtt5.reasonString(endpoint, reason));
        } else {
            endpoint.reject(code);
        }
    }

    /** The address the client connects from, as the per-source limits and the login throttle key it. */
    private static String source(MqttEndpoint endpoint) {
        return endpoint.remoteAddress() == null ? null : endpoint.remoteAddress().hostAddress();
    }

    /** A client's identifier as logged: at most 80 characters (a client may send 64 KB of it). */
    private static String clip(String s) {
        return s == null || s.length() <= 80 ? s : s.substring(0, 80) + "... (" + s.length() + " characters)";
    }
}

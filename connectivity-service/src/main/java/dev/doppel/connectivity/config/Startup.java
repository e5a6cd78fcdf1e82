package dev.doppel.connectivity.config;

import dev.doppel.connectivity.adapter.coap.CoapAdapter;
import dev.doppel.connectivity.adapter.mqtt.MqttAdapter;
import dev.doppel.connectivity.bridge.BridgeDefinitions;
import dev.doppel.connectivity.hono.HonoNorthbound;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.connectivity.registry.SharedLoginFailures;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

/** Declares indexes before devices connect; readiness includes the MQTT and CoAP listeners. */
@ApplicationScoped
public class Startup {

    private static final Logger LOG = Logger.getLogger(Startup.class);

    void onStart(@Observes @Priority(1) StartupEvent ev, DeviceRegistry registry, BridgeDefinitions bridges,
            SharedLoginFailures loginFailures) {
        registry.ensureIndexes().await().atMost(Duration.ofSeconds(30));
        loginFailures.ensureIndexes().await().atMost(Duration.ofSeconds(30));
        // Secrets stored in the clear by an older version, or under a key being rotated out: sealed again
        // in the background, since a pass reads every PSK credential and must not hold up the start (both
        // kinds are readable either way meanwhile).
        registry.sealStoredKeys().chain(keys -> bridges.sealStoredPasswords().invoke(passwords -> {
            if (keys + passwords > 0) {
                LOG.infof("sealed %d pre-shared keys and %d broker passwords under the current doppel.secrets.key",
                        keys, passwords);
            }
        })).subscribe().with(n -> {
        }, failure -> LOG.warnf("sealing stored secrets failed (they stay readable; the next start tries again): %s",
                failure.getMessage()));
    }

    @Readiness
    @ApplicationScoped
    public static class MqttReadiness implements HealthCheck {

        private final MqttAdapter adapter;
        private final MqttAdapterConfig config;

        public MqttReadiness(MqttAdapter adapter, MqttAdapterConfig config) {
            this.adapter = adapter;
            this.config = config;
        }

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("mqtt-adapter")
                    .status(!config.enabled() || adapter.isListening())
                    .withData("port", adapter.port())
                    .withData("tls-port", adapter.tlsPort())
                    .build();
        }
    }

    @Readiness
    @ApplicationScoped
    public static class CoapReadiness implements HealthCheck {

        private final CoapAdapter adapter;
        private final CoapAdapterConfig config;

        public CoapReadiness(CoapAdapter adapter, CoapAdapterConfig config) {
            this.adapter = adapter;
            this.config = config;
        }

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("coap-adapter")
                    .status(!config.enabled() || adapter.isListening())
                    .withData("port", adapter.plainPort())
                    .withData("dtls-port", adapter.securePort())
                    .build();
        }
    }

    @Readiness
    @ApplicationScoped
    public static class HonoReadiness implements HealthCheck {

        private final HonoNorthbound hono;

        public HonoReadiness(HonoNorthbound hono) {
            this.hono = hono;
        }

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("hono-northbound").status(hono.isConsuming()).build();
        }
    }
}

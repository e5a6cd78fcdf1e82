package dev.doppel.connectivity.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

@ConfigMapping(prefix = "doppel.mqtt")
public interface MqttAdapterConfig {

    @WithDefault("true")
    boolean enabled();

    @WithDefault("127.0.0.1")
    String host();

    /** 0 picks a free port (tests). */
    @WithDefault("1883")
    int port();

    /**
     * The plain (unencrypted) listener on {@link #port()}. Off, devices connect over TLS only
     * ({@code doppel.mqtt.tls.*}, which must then be enabled): the production overlay does that, so
     * that no password crosses the internet in clear.
     */
    @WithDefault("true")
    boolean plain();

    /** Largest accepted PUBLISH payload; larger ones close the connection. */
    @WithDefault("65536")
    int maxPayloadBytes();

    /** Seconds a client may take between TCP connect and CONNECT. */
    @WithDefault("10")
    int connectTimeoutSeconds();

    /**
     * Most devices a gateway takes commands for through {@code command//+/req/#}: a gateway with more
     * subscribes per device ({@code command//{device}/req/#}).
     */
    @WithDefault("10000")
    int maxDevicesPerGateway();

    /** MQTT over TLS (mqtts), beside the plain listener. */
    Tls tls();

    interface Tls {

        @WithDefault("false")
        boolean enabled();

        /** 0 picks a free port (tests). */
        @WithDefault("8883")
        int port();

        /** PEM certificate chain (in Kubernetes: tls.crt of a kubernetes.io/tls Secret). */
        Optional<String> certPath();

        /** PEM private key (tls.key). */
        Optional<String> keyPath();

        /**
         * Request (not require) an X.509 client certificate in the handshake, so that devices can log
         * in with a certificate one of their tenant's trusted CAs issued instead of a password.
         */
        @WithDefault("true")
        boolean clientCertificates();
    }
}

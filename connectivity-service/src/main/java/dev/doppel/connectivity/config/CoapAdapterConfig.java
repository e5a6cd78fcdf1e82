package dev.doppel.connectivity.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

@ConfigMapping(prefix = "doppel.coap")
public interface CoapAdapterConfig {

    @WithDefault("true")
    boolean enabled();

    @WithDefault("127.0.0.1")
    String host();

    /**
     * Plain CoAP (UDP), for the unauthenticated resources. Only bound when
     * {@link #allowUnauthenticated()} is set. 0 picks a free port (tests).
     */
    @WithDefault("5683")
    int port();

    /** CoAP over DTLS with pre-shared keys (identity {@code auth-id@tenant}). 0 picks a free port (tests). */
    @WithDefault("5684")
    int dtlsPort();

    /**
     * Whether registered devices may send without authenticating, on the plain port, through
     * {@code /telemetry/{tenant}/{device}} (Hono's {@code HONO_COAP_AUTHENTICATION_REQUIRED=false}).
     * Anyone who can reach the port can then speak for any device: for closed networks only.
     */
    @WithDefault("false")
    boolean allowUnauthenticated();

    /** Largest accepted request body, also across block-wise transfers; larger ones get 4.13. */
    @WithDefault("65536")
    int maxPayloadBytes();
}

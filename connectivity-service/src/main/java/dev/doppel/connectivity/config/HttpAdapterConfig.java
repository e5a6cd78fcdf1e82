package dev.doppel.connectivity.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The HTTP device adapter ({@code /telemetry}, {@code /event}, command responses). */
@ConfigMapping(prefix = "doppel.http")
public interface HttpAdapterConfig {

    /** Largest body a device may send, as for MQTT and CoAP; a larger one is refused with 413. */
    @WithDefault("65536")
    int maxPayloadBytes();
}

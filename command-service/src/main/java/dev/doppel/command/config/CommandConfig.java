package dev.doppel.command.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

@ConfigMapping(prefix = "doppel.commands")
public interface CommandConfig {

    @WithDefault("doppel-commands")
    String database();

    /** Used when a request names no timeout (Ditto's default). */
    @WithDefault("10s")
    Duration defaultTimeout();

    /** Longest a caller may wait for a device's answer. */
    @WithDefault("60s")
    Duration maxTimeout();

    @WithDefault("65536")
    int maxPayloadBytes();
}

package dev.doppel.connectivity.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * What this instance remembers of twins that are (nearly) full, as twin-service told it on
 * {@code dt.twin-room} ({@link dev.doppel.connectivity.limits.TwinRooms}).
 */
@ConfigMapping(prefix = "doppel.limits.twin-room")
public interface TwinRoomConfig {

    /**
     * How long a twin's room counts after twin-service told it: then the twin's next report that does
     * not fit is judged by twin-service again (acknowledged, then dropped), which tells the room anew.
     * Bounds how long an older view lasts when a notice was lost.
     */
    @WithDefault("PT10M")
    Duration ttl();

    /** Twins remembered at most. */
    @WithDefault("10000")
    int maxTwins();

    /** Keys of all remembered twins together at most (8 bytes each). */
    @WithDefault("2000000")
    int maxKeys();
}

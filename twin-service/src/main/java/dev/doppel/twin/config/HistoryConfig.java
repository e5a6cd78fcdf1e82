package dev.doppel.twin.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;

/** How long twin history is kept: a default and, per tenant, an override. */
@ConfigMapping(prefix = "doppel.twin.history")
public interface HistoryConfig {

    @WithDefault("P7D")
    Duration retention();

    /** {@code doppel.twin.history.tenant-retention.acme=P30D} */
    Map<String, Duration> tenantRetention();

    @WithDefault("1h")
    String expiryInterval();

    /**
     * The most history entries one rebuild of a twin as it was ({@code ?revision=}, {@code ?at=},
     * GraphQL {@code twinAt}) may read; a rebuild that needs more is refused (422). A rebuild replays
     * the twin's history from its start, so this bounds the time one request can take.
     */
    @WithDefault("20000")
    int maxReplay();

    /** Rebuilds running at once in this instance; a further one is told to retry (429). */
    @WithDefault("2")
    int replaysAtOnce();

    /** Wait after start before the first expiry run. */
    @WithDefault("1m")
    String expiryDelay();
}

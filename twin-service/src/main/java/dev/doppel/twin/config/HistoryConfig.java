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

    /** Wait after start before the first expiry run. */
    @WithDefault("1m")
    String expiryDelay();
}

package dev.doppel.connectivity.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Eclipse Hono's northbound Kafka API, for tenants whose devices connect through a Hono deployment. */
@ConfigMapping(prefix = "doppel.hono")
public interface HonoConfig {

    /** Off unless Hono is deployed. */
    @WithDefault("false")
    boolean enabled();

    /** The Hono tenants to bridge: their devices appear as {@code {tenant}:{device-id}}. */
    Optional<List<String>> tenants();

    /** Hono's Kafka cluster; by default the one Doppel uses. */
    Optional<String> bootstrapServers();

    /** Consumer group on Hono's topics; all connectivity instances share it. */
    @WithDefault("doppel-connectivity")
    String groupId();

    /** Further Kafka client properties for Hono's cluster (security.protocol, sasl.*, ssl.*). */
    Map<String, String> client();
}

package dev.doppel.connectivity.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Optional;

/**
 * How fast one source address may try to get in, before anything is known about who it is
 * ({@link dev.doppel.connectivity.limits.SourceRates}). The address must be the device's own: behind a
 * proxy or a load balancer that hides it, every device shares the proxy's allowance (on Kubernetes,
 * {@code externalTrafficPolicy: Local} keeps it).
 */
@ConfigMapping(prefix = "doppel.limits.per-source")
public interface SourceLimitsConfig {

    /** New MQTT connections (CONNECT packets) and DTLS handshakes (ClientHello) per second and source. */
    @WithDefault("20")
    double connectsPerSecond();

    /** How many of them may come at once after a quiet time. */
    @WithDefault("200")
    int connectsBurst();

    /**
     * Device passwords checked per second and source (MQTT and HTTP logins whose password was not
     * matched lately; each costs a deliberately slow hash).
     */
    @WithDefault("10")
    double passwordChecksPerSecond();

    @WithDefault("100")
    int passwordChecksBurst();

    /**
     * Addresses these limits do not apply to (for example a trusted gateway's, or 127.0.0.1 where a
     * local run's simulated fleet connects from); an IPv6 address stands for its /64. None by default.
     */
    Optional<List<String>> trusted();
}

package dev.doppel.twin.console;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/**
 * Where the console, served by this service under {@code /console/}, finds what it talks to. Browsers
 * reach these addresses, so they are the public ones (behind an ingress), not the cluster's.
 */
@ConfigMapping(prefix = "doppel.console")
public interface ConsoleConfig {

    /** The realm's public URL, {@code https://host/realms/twin}; by default the one tokens are checked against. */
    @WithDefault("${quarkus.oidc.auth-server-url}")
    String keycloakUrl();

    /** The public client the console signs in with: authorization code with PKCE. */
    @WithDefault("doppel-console")
    String clientId();

    /** command-service's public base URL; absent: the console's own origin (one ingress host for all). */
    Optional<String> commandsUrl();

    /** connectivity-service's public base URL (the device registry); absent: the console's own origin. */
    Optional<String> devicesUrl();
}

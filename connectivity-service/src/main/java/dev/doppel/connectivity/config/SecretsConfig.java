package dev.doppel.connectivity.config;

import io.smallrye.config.ConfigMapping;
import java.util.List;
import java.util.Optional;

/**
 * The keys that seal the secrets connectivity must keep readable (DTLS pre-shared keys, the
 * passwords of external brokers) in its database: AES-256, each given as 32 bytes in base64
 * ({@code openssl rand -base64 32}). Required: a service without a key does not start.
 */
@ConfigMapping(prefix = "doppel.secrets")
public interface SecretsConfig {

    /** The key new secrets are sealed with, and old ones sealed again with at start. */
    Optional<String> key();

    /** Keys secrets may still be sealed with, while a rotation is under way. */
    Optional<List<String>> oldKeys();
}

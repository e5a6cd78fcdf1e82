package dev.doppel.connectivity.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

@ConfigMapping(prefix = "doppel.registry")
public interface RegistryConfig {

    @WithDefault("doppel-connectivity")
    String database();

    /** PBKDF2-HMAC-SHA256 iterations for new password hashes; stored per hash, so it can be raised later. */
    @WithDefault("100000")
    int pbkdf2Iterations();

    /**
     * How long a password that matched its stored hash is taken as matching again without a new
     * PBKDF2 check (an HTTP device sends it with every request). A changed credential does not match
     * an older entry. 0 checks every time.
     */
    @WithDefault("5m")
    java.time.Duration verifiedPasswordKept();

    /**
     * How long a device's password credential and its status (device and tenant enabled) are taken
     * from memory instead of the store, for logins (an HTTP or CoAP device logs in with every request).
     * A change made through this instance's registry API counts at once; one made through another
     * instance counts here within this time. 0 reads the store every time.
     */
    @WithDefault("5s")
    java.time.Duration answersKept();
}

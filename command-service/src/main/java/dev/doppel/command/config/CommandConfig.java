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

    /** How long an asynchronous command waits for an offline device when the request names no ttl. */
    @WithDefault("1h")
    Duration defaultTtl();

    @WithDefault("7d")
    Duration maxTtl();

    /** Commands one device may have waiting (queued or sent, not acknowledged); more get 429. */
    @WithDefault("100")
    int maxQueuedPerDevice();

    /** How long the desired state pushed to a device ({@code dt.desired}) waits for it to connect. */
    @WithDefault("1d")
    Duration desiredTtl();

    /** How often the timers kept in MongoDB are checked (read by CommandTimers' schedule). */
    @WithDefault("1s")
    Duration sweepInterval();

    /**
     * How long a command is kept after it ended (its outcome readable by id and in lists); then it is
     * removed, so the store does not grow with every command ever sent.
     */
    @WithDefault("7d")
    Duration retention();

    /** How often each replica removes what passed the retention (read by CommandRetention's schedule). */
    @WithDefault("10m")
    Duration retentionInterval();

    KnownThings knownThings();

    /** Commands go only to things in the device registry (dt.devices), as this instance's view of it knows them. */
    interface KnownThings {

        /**
         * How long a command for a thing the view does not know waits for the view to reach the registry's
         * latest registrations (a device registered a moment ago); then 503, as the answer is not yet known.
         */
        @WithDefault("5s")
        Duration catchUpTimeout();
    }
}

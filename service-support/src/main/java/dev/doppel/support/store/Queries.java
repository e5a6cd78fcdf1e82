package dev.doppel.support.store;

import java.time.Duration;

/**
 * How long a query whose shape a caller chooses (a search, a page of history, a list of commands) may
 * run in MongoDB. Each such query carries it as {@code maxTimeMS}, so a costly filter (an unindexed
 * field, a {@code like} pattern over many twins) is stopped by the store instead of holding it for
 * everyone; the caller gets a 503 {@code query-timeout} problem ({@code ProblemMappers}). Lookups by
 * key and the services' own writes do not carry it. The MongoDB stand-in of the local run ignores it.
 */
public final class Queries {

    public static final Duration MAX_TIME = Duration.ofSeconds(5);

    private Queries() {
    }

    /** {@link #MAX_TIME} in milliseconds, as the driver's options take it. */
    public static long maxTimeMillis() {
        return MAX_TIME.toMillis();
    }
}

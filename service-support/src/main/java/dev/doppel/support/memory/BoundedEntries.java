package dev.doppel.support.memory;

import java.util.Map;
import java.util.function.Predicate;

/**
 * How the services' in-memory answers (remembered registry answers and passwords, copies of recent
 * commands) stay bounded: before an entry is added to a full map, expired entries go, and if that is
 * not enough, all of them. Every entry is only a shortcut to what the store holds, so losing them
 * costs round trips, never correctness.
 */
public final class BoundedEntries {

    /** What a map of remembered answers holds at most unless it says otherwise. */
    public static final int DEFAULT_CAPACITY = 100_000;

    private BoundedEntries() {
    }

    /** Makes room for one more entry in a map that may hold {@link #DEFAULT_CAPACITY}. */
    public static <V> void makeRoom(Map<?, V> entries, Predicate<V> expired) {
        makeRoom(entries, DEFAULT_CAPACITY, expired);
    }

    /** Makes room for one more entry in a map that may hold {@code capacity}. */
    public static <V> void makeRoom(Map<?, V> entries, int capacity, Predicate<V> expired) {
        if (entries.size() >= capacity) {
            entries.values().removeIf(expired);
            if (entries.size() >= capacity) {
                entries.clear();
            }
        }
    }
}

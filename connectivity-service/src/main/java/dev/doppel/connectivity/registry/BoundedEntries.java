package dev.doppel.connectivity.registry;

import java.util.Map;
import java.util.function.Predicate;

/** The bound of the registry's in-memory answers: how many entries they keep, and how room is made. */
final class BoundedEntries {

    static final int MAX_ENTRIES = 100_000;

    private BoundedEntries() {
    }

    /** Before an entry is added to a full map: expired entries go, and if that is not enough, all of them. */
    static <V> void makeRoom(Map<?, V> entries, Predicate<V> expired) {
        if (entries.size() >= MAX_ENTRIES) {
            entries.values().removeIf(expired);
            if (entries.size() >= MAX_ENTRIES) {
                entries.clear();
            }
        }
    }
}

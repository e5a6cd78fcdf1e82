package dev.doppel.connectivity.adapter.mqtt;

import java.util.HashMap;
import java.util.Map;

/**
 * A connection's UNSUBSCRIBEs, so that a SUBSCRIBE the registry answers later can tell whether its
 * filter was unsubscribed meanwhile. Bounded: a device that unsubscribes from ever new filters cannot
 * grow it without end (issue 16). When it is full it forgets every filter at once and remembers when,
 * and a SUBSCRIBE older than that is taken as unsubscribed: only a connection that sent
 * {@value #KEPT} UNSUBSCRIBEs while one SUBSCRIBE was being answered can tell.
 * Used on the connection's event loop only.
 */
final class RecentUnsubscribes {

    static final int KEPT = 1_000;

    private final Map<String, Long> at = new HashMap<>();
    private long changes;
    private long forgottenAt = Long.MIN_VALUE;

    /** Where a SUBSCRIBE starts: what it later compares with. */
    long now() {
        return changes;
    }

    void unsubscribed(String filter) {
        if (at.size() >= KEPT && !at.containsKey(filter)) {
            at.clear();
            forgottenAt = changes;
        }
        at.put(filter, ++changes);
    }

    /** Whether {@code filter} may have been unsubscribed since {@code asOf} (a {@link #now}). */
    boolean since(String filter, long asOf) {
        // Forgotten filters were unsubscribed at counts up to forgottenAt: some after asOf if it is above it.
        return at.getOrDefault(filter, Long.MIN_VALUE) > asOf || forgottenAt > asOf;
    }

    int kept() {
        return at.size();
    }
}

package dev.doppel.twin.repository;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;

/**
 * Copies of the twins this instance wrote last, as written (the document with its outbox), so that
 * the next batch of reports for the same twins starts from them instead of reading them back: one
 * store round trip fewer per batch. A copy made stale by another writer (an instance in a rebalance)
 * is harmless: the write that starts from it is conditional on its revision, fails, and the twin is
 * then read from the store and written alone, as on any lost race.
 *
 * <p>Bounded in count and in size: only twins of at most {@value #MAX_VALUES} values are kept (a twin
 * may be up to 256 KiB), at most {@code capacity} of them (1,000 by default: a few MB for twins of a
 * few dozen values, 25 MB at most), least recently used dropped first. Copies
 * go in and out as deep copies, since a twin read for a write is changed in place by the merge.
 */
final class RecentTwins {

    static final int MAX_VALUES = 100;

    private final Map<String, Document> copies;

    RecentTwins(int capacity) {
        this.copies = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Document> eldest) {
                return size() > capacity;
            }
        };
    }

    /** A copy of the twin as this instance last wrote it, or null. */
    synchronized Document get(String id) {
        Document d = copies.get(id);
        return d == null ? null : copy(d, null);
    }

    /** The twin as just written; one too large to keep is forgotten instead. */
    void written(String id, Document doc) {
        Document c = copy(doc, new int[] {MAX_VALUES});
        synchronized (this) {
            if (c == null) {
                copies.remove(id);
            } else {
                copies.put(id, c);
            }
        }
    }

    /** The twin may have changed elsewhere, or is gone: read it from the store next time. */
    synchronized void forget(String id) {
        copies.remove(id);
    }

    /** A deep copy, or null once it holds more than {@code left[0]} values (null: no limit). */
    @SuppressWarnings("unchecked")
    private static <T> T copy(T value, int[] left) {
        if (value instanceof Map<?, ?> m) {
            Document d = new Document();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Object v = copy(e.getValue(), left);
                if (v == null && e.getValue() != null) {
                    return null;
                }
                d.put((String) e.getKey(), v);
            }
            return (T) d;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object o : l) {
                Object v = copy(o, left);
                if (v == null && o != null) {
                    return null;
                }
                out.add(v);
            }
            return (T) out;
        }
        if (left != null && --left[0] < 0) {
            return null;
        }
        return value; // strings, numbers, booleans, dates, binaries: not changed in place
    }
}

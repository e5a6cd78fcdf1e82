package dev.doppel.connectivity.registry;

import dev.doppel.support.memory.BoundedEntries;
import io.smallrye.mutiny.Uni;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Registry answers kept for a short time, so that a device that sends its password with every request
 * (HTTP, CoAP) does not cost registry reads each time. A change made through this instance forgets
 * everything at once ({@link #forgetAll}); a change made through another instance counts here after at
 * most {@code keptFor}. An answer being loaded while something is forgotten is not kept. Bounded: when
 * full, expired entries go, and if that is not enough, all of them.
 */
final class RecentAnswers<K, V> {

    private record Entry<V>(V value, Instant until) {
    }

    private final Duration keptFor;
    private final Clock clock;
    private final Map<K, Entry<V>> entries = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();

    RecentAnswers(Duration keptFor, Clock clock) {
        this.keptFor = keptFor;
        this.clock = clock;
    }

    /** The answer kept for {@code key}, or {@code load}'s (kept when {@code keep} says so). */
    Uni<V> get(K key, Supplier<Uni<V>> load, Predicate<V> keep) {
        if (keptFor.isZero()) {
            return load.get();
        }
        Entry<V> e = entries.get(key);
        if (e != null && clock.instant().isBefore(e.until())) {
            return Uni.createFrom().item(e.value());
        }
        long seen = generation.get();
        return load.get().invoke(v -> {
            if (keep.test(v)) {
                put(key, v, seen);
            }
        });
    }

    private void put(K key, V value, long seen) {
        Instant now = clock.instant();
        BoundedEntries.makeRoom(entries, e -> !now.isBefore(e.until()));
        entries.put(key, new Entry<>(value, now.plus(keptFor)));
        if (generation.get() != seen) {
            entries.remove(key); // forgotten while it was loaded: it may predate the change
        }
    }

    void forgetAll() {
        generation.incrementAndGet();
        entries.clear();
    }
}

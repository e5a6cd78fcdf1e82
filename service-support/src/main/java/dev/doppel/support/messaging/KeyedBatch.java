package dev.doppel.support.messaging;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Works through a consumed batch of events the way a one-record-at-a-time consumer would for each key
 * (a command, a device), and concurrently across keys. A consumer that awaits a store or a broker
 * per record gets at most one record per round trip done; this one gets up to {@code concurrency}
 * keys' worth, and each key still sees its events in their Kafka order.
 *
 * <p>The returned {@code Uni} completes when every event was handled, so a batch's offsets are
 * committed only after all of it; it fails with the first failure, like the single-record consumer's
 * channel would.
 */
public final class KeyedBatch {

    private KeyedBatch() {
    }

    /**
     * @param events      the batch's events in their Kafka order (records that could not be read left out)
     * @param key         what must stay in order (events of one key are handled one after the other)
     * @param handle      what one event needs done
     * @param concurrency at most this many keys at once
     */
    public static <T> Uni<Void> process(List<T> events, Function<T, String> key, Function<T, Uni<Void>> handle,
            int concurrency) {
        return processGroups(events, key, inOrder -> Multi.createFrom().iterable(inOrder)
                .onItem().transformToUniAndConcatenate(e -> Uni.createFrom().deferred(() -> handle.apply(e)))
                .collect().last().replaceWithVoid(), concurrency);
    }

    /**
     * Like {@link #process}, but hands each key's events to {@code handle} together, in their Kafka
     * order: for a consumer that does one store write for several events of the same key.
     */
    public static <T> Uni<Void> processGroups(List<T> events, Function<T, String> key,
            Function<List<T>, Uni<Void>> handle, int concurrency) {
        if (events.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        Map<String, List<T>> byKey = new LinkedHashMap<>();
        for (T event : events) {
            String k = key.apply(event);
            byKey.computeIfAbsent(k == null ? "" : k, x -> new ArrayList<>()).add(event);
        }
        return Multi.createFrom().iterable(byKey.values())
                .onItem().transformToUni(inOrder -> Uni.createFrom().deferred(() -> handle.apply(inOrder)))
                .merge(concurrency)
                .collect().last().replaceWithVoid();
    }
}

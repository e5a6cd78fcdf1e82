package dev.doppel.support.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.mutiny.Uni;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class KeyedBatchTest {

    /** An event: its key and its name; each handling waits until the test completes it. */
    record Event(String key, String name) {
    }

    @Test
    void aKeyWaitsForItsEarlierEventWhileOtherKeysGoOn() {
        List<String> started = new ArrayList<>();
        Map<String, CompletableFuture<Void>> running = new HashMap<>();
        List<Event> batch = List.of(new Event("a", "a1"), new Event("a", "a2"), new Event("b", "b1"),
                new Event("b", "b2"), new Event("c", "c1"));
        AtomicBoolean done = new AtomicBoolean();
        KeyedBatch.process(batch, Event::key, e -> {
            started.add(e.name());
            CompletableFuture<Void> f = new CompletableFuture<>();
            running.put(e.name(), f);
            return Uni.createFrom().completionStage(f);
        }, 8).subscribe().with(ok -> done.set(true));

        // The first event of every key runs at once; the second of a key waits for its first.
        assertEquals(List.of("a1", "b1", "c1"), started);
        running.get("b1").complete(null);
        assertEquals(List.of("a1", "b1", "c1", "b2"), started);
        running.get("b2").complete(null);
        running.get("c1").complete(null);
        assertFalse(done.get(), "the batch is done only when every event is");
        running.get("a1").complete(null);
        assertEquals(List.of("a1", "b1", "c1", "b2", "a2"), started);
        running.get("a2").complete(null);
        assertTrue(done.get());
    }

    @Test
    void atMostConcurrencyKeysAtOnce() {
        List<String> started = new ArrayList<>();
        Map<String, CompletableFuture<Void>> running = new HashMap<>();
        KeyedBatch.process(List.of(new Event("a", "a1"), new Event("b", "b1"), new Event("c", "c1")), Event::key, e -> {
            started.add(e.name());
            CompletableFuture<Void> f = new CompletableFuture<>();
            running.put(e.name(), f);
            return Uni.createFrom().completionStage(f);
        }, 2).subscribe().with(ok -> { });
        assertEquals(List.of("a1", "b1"), started);
        running.get("a1").complete(null);
        assertEquals(List.of("a1", "b1", "c1"), started);
    }

    @Test
    void aFailureFailsTheBatch() {
        AtomicBoolean failed = new AtomicBoolean();
        KeyedBatch.process(List.of(new Event("a", "a1"), new Event("b", "b1")), Event::key,
                e -> e.key().equals("b") ? Uni.createFrom().failure(new IllegalStateException("store down"))
                        : Uni.createFrom().voidItem(), 8)
                .subscribe().with(ok -> { }, t -> failed.set(t.getMessage().equals("store down")));
        assertTrue(failed.get());
    }

    @Test
    void groupsHandOverEachKeysEventsTogetherInTheirOrder() {
        List<String> handed = new ArrayList<>();
        KeyedBatch.processGroups(List.of(new Event("a", "a1"), new Event("b", "b1"), new Event("a", "a2")), Event::key,
                events -> {
                    handed.add(String.join(",", events.stream().map(Event::name).toList()));
                    return Uni.createFrom().voidItem();
                }, 8).await().indefinitely();
        assertEquals(List.of("a1,a2", "b1"), handed);
    }
}

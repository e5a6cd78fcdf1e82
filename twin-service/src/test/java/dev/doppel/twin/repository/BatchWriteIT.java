package dev.doppel.twin.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.devstack.testing.RealInfrastructure;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.repository.TwinRepository.Copy;
import dev.doppel.twin.repository.TwinRepository.Stored;
import dev.doppel.twin.repository.TwinRepository.Write;
import dev.doppel.twin.service.TwinHistory;
import dev.doppel.twin.testing.StoreCommands;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The batch twin writer writes a consumed batch's twins with one bulk write. A write in it can lose a
 * race (an API edit, or another instance during a rebalance, wrote the twin after the batch read it);
 * the writer must know exactly which, because it publishes the changes of the others as written. Here
 * the races are made with the repository itself, against the real store.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class BatchWriteIT {

    @Inject
    TwinRepository repository;

    @Inject
    TwinHistory history;

    private static final Instant T0 = Instant.parse("2026-12-06T08:00:00Z");

    /** The twin with one more reported temperature, and the outbox of that write. */
    private Write next(ThingId id, Twin twin, double temperature, Long expectedRevision, Instant at) {
        long before = twin.revision();
        Map<String, Object> changes = twin.applyReported(Map.of("telemetry", Map.of("temperature", temperature)),
                Map.of(), at, at);
        TwinChanged change = new TwinChanged(UUID.randomUUID().toString(), id.toString(), twin.revision(), before,
                changes, at, UUID.randomUUID().toString(), twin.delta());
        Outbox outbox = history.outbox(change, twin, null);
        return new Write(twin, expectedRevision, outbox);
    }

    private Map<String, Stored> read(ThingId... ids) {
        return repository.findAllForWrite(List.of(ids)).await().atMost(Duration.ofSeconds(10));
    }

    @Inject
    StoreCommands store;

    @Test
    void aTwinWrittenHereIsNotReadBackForTheNextBatchAndAStaleCopyStillLosesItsRace() {
        ThingId a = ThingId.parse("demo:copy-a");
        ThingId b = ThingId.parse("demo:copy-b");
        assertEquals(Set.of(a.toString(), b.toString()), repository.writeAll(List.of(
                next(a, Twin.empty(a, T0), 20.0, null, T0), next(b, Twin.empty(b, T0), 20.0, null, T0)), Copy.KEEP)
                .await().atMost(Duration.ofSeconds(10)));

        store.clear();
        Map<String, Stored> fromCopies = repository.findAllFromCopies(List.of(a, b)).await().atMost(Duration.ofSeconds(10));
        assertEquals(List.of(), store.on("twins"), "the next batch read the twins this instance had just written");
        assertEquals(1L, fromCopies.get(a.toString()).twin().revision());
        // The positive control of that silence: a twin not written here is read from the store.
        repository.findAllFromCopies(List.of(ThingId.parse("demo:copy-never"))).await().atMost(Duration.ofSeconds(10));
        assertEquals(1, store.on("twins").size());

        // A copy changed in place by a merge leaves the next copy as it was written.
        Twin changedInPlace = fromCopies.get(a.toString()).twin();
        next(a, changedInPlace, 99.0, 1L, T0.plusSeconds(1));
        assertEquals(20.0, repository.findAllFromCopies(List.of(a)).await().atMost(Duration.ofSeconds(10))
                .get(a.toString()).twin().features().get("telemetry").properties().get("temperature"));

        // b moves on to revision 2. A write that starts from revision 1 (what a copy made stale by another
        // writer gives) loses its race, and after it the twin comes from the store again.
        Twin fromStore = read(b).get(b.toString()).twin();
        Write elsewhere = next(b, fromStore, 30.0, 1L, T0.plusSeconds(5));
        assertEquals(Set.of(b.toString()), repository.writeAll(List.of(elsewhere), Copy.KEEP).await().atMost(Duration.ofSeconds(10)));
        Twin stale = next(b, Twin.empty(b, T0), 20.0, null, T0).twin(); // revision 1
        Write fromStale = next(b, stale, 25.0, 1L, T0.plusSeconds(6));
        assertEquals(Set.of(), repository.writeAll(List.of(fromStale), Copy.KEEP).await().atMost(Duration.ofSeconds(10)));
        store.clear();
        assertEquals(2L, repository.findAllFromCopies(List.of(b)).await().atMost(Duration.ofSeconds(10))
                .get(b.toString()).twin().revision(), "after a lost race the twin comes from the store");
        assertEquals(1, store.on("twins").size());

        // An API edit keeps no copy: the twin's next batch of reports reads it from the store.
        Write edit = next(a, read(a).get(a.toString()).twin(), 40.0, 1L, T0.plusSeconds(7));
        assertEquals(Set.of(a.toString()), repository.writeAll(List.of(edit), Copy.DROP)
                .await().atMost(Duration.ofSeconds(10)));
        store.clear();
        assertEquals(2L, repository.findAllFromCopies(List.of(a)).await().atMost(Duration.ofSeconds(10))
                .get(a.toString()).twin().revision());
        assertEquals(1, store.on("twins").size(), "after an API edit the twin comes from the store");
    }

    @Test
    void theWritesThatLostARaceAreTheOnlyOnesReportedUnwritten() {
        ThingId kept = ThingId.parse("demo:batch-kept");
        ThingId raced = ThingId.parse("demo:batch-raced");
        ThingId created = ThingId.parse("demo:batch-created");
        ThingId createdTwice = ThingId.parse("demo:batch-created-twice");
        // Positive control: a first batch creates three twins, and all three are reported written.
        Write k1 = next(kept, Twin.empty(kept, T0), 20.0, null, T0);
        Write r1 = next(raced, Twin.empty(raced, T0), 20.0, null, T0);
        Write c1 = next(createdTwice, Twin.empty(createdTwice, T0), 20.0, null, T0);
        assertEquals(Set.of(kept.toString(), raced.toString(), createdTwice.toString()),
                repository.writeAll(List.of(k1, r1, c1), Copy.KEEP).await().atMost(Duration.ofSeconds(10)));

        // The next batch reads them; then another writer changes one of them.
        Map<String, Stored> readByBatch = read(kept, raced);
        Twin racedNow = readByBatch.get(raced.toString()).twin();
        Write edit = next(raced, read(raced).get(raced.toString()).twin(), 30.0, racedNow.revision(), T0.plusSeconds(5));
        assertEquals(Set.of(raced.toString()), repository.writeAll(List.of(edit), Copy.KEEP).await().atMost(Duration.ofSeconds(10)));

        Instant t1 = T0.plusSeconds(10);
        Write k2 = next(kept, readByBatch.get(kept.toString()).twin(), 21.0, 1L, t1);
        Write r2 = next(raced, racedNow, 21.0, 1L, t1);
        Write c2 = next(created, Twin.empty(created, t1), 21.0, null, t1);
        // Created by someone else meanwhile: this batch's insert of it loses.
        Write c3 = next(createdTwice, Twin.empty(createdTwice, t1), 21.0, null, t1);
        Set<String> written = repository.writeAll(List.of(k2, r2, c2, c3), Copy.KEEP).await().atMost(Duration.ofSeconds(10));

        assertEquals(Set.of(kept.toString(), created.toString()), written);
        Map<String, Stored> after = read(kept, raced, created, createdTwice);
        assertEquals(k2.outbox().id(), after.get(kept.toString()).outbox().orElseThrow().id());
        assertEquals(2, after.get(kept.toString()).twin().revision());
        assertEquals(edit.outbox().id(), after.get(raced.toString()).outbox().orElseThrow().id(),
                "the other writer's write stays");
        assertEquals(c1.outbox().id(), after.get(createdTwice.toString()).outbox().orElseThrow().id());
        assertEquals(c2.outbox().id(), after.get(created.toString()).outbox().orElseThrow().id());
    }
}

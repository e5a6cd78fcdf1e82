package dev.doppel.connectivity.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class PasswordChecksTest {

    @Test
    void aCheckBeyondThoseRunningAndWaitingIsRefusedAtOnceAndTheNextAfterThemRuns() throws Exception {
        PasswordChecks checks = new PasswordChecks(1, 1);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Uni<String> running = checks.run(() -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "first";
        }).memoize().indefinitely();
        running.subscribe().with(x -> { });
        started.await();
        Uni<String> waiting = checks.run(() -> "second").memoize().indefinitely();
        waiting.subscribe().with(x -> { });
        // One running, one waiting: the third is refused without waiting for them.
        assertThrows(PasswordChecks.Busy.class, () -> checks.run(() -> "third").await().atMost(Duration.ofSeconds(5)));
        release.countDown();
        assertEquals("first", running.await().atMost(Duration.ofSeconds(5)));
        assertEquals("second", waiting.await().atMost(Duration.ofSeconds(5)));
        assertEquals("fourth", checks.run(() -> "fourth").await().atMost(Duration.ofSeconds(5)));
        checks.stop();
    }
}

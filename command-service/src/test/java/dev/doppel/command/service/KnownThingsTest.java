package dev.doppel.command.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.command.messaging.RegisteredThingsView;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.Ports;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.support.rest.ProblemException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * When the view of the registry cannot catch up (here: no broker answers at all), a thing it does not know
 * is neither accepted nor called unknown: the caller gets 503 with Retry-After, after the configured wait.
 */
class KnownThingsTest {

    @Test
    void anUnknownThingIs503WhenTheRegistryCannotBeReadInTime() {
        Map<String, Object> nowhere = Map.of("bootstrap.servers", "127.0.0.1:" + Ports.free(),
                "request.timeout.ms", 2000, "default.api.timeout.ms", 3000);
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        try (RegisteredThingsView view = new RegisteredThingsView(nowhere, Topics.DEVICES, KafkaProbe.JSON, e -> {
        })) {
            view.start();
            KnownThings known = new KnownThings(view, Duration.ofMillis(800), metrics);
            long t0 = System.nanoTime();
            Throwable failure = assertThrows(RuntimeException.class,
                    () -> known.require(ThingId.parse("demo:anything")).await().atMost(Duration.ofSeconds(10)));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            ProblemException problem = assertInstanceOf(ProblemException.class, failure);
            assertEquals(503, problem.problem().status());
            assertEquals("https://doppel.dev/problems/registry-not-caught-up", problem.problem().type());
            assertEquals(Duration.ofMillis(800), problem.retryAfter().orElseThrow());
            assertTrue(millis >= 700 && millis < 5000, "answered after " + millis + " ms");
            assertFalse(known.isCaughtUp(), "not ready without the registry");
            assertEquals(1.0, metrics.counter("doppel.commands.rejected", "reason", "registry-not-caught-up").count());
        }
    }
}

package dev.doppel.twin.messaging;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import dev.doppel.twin.testing.Reports;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.repository.TwinRepository;
import dev.doppel.twin.service.TwinHistory;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A twin-service process that dies right after writing a twin leaves the twin written but its change
 * unpublished and its history unrecorded. The state such a crash leaves is made here with the
 * service's own repository (the twin and its outbox, nothing else); what follows is the real
 * pipeline: the redelivered report, or the next API write, must finish the interrupted one.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class InterruptedWriteIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static final String TEMP = "features/telemetry/properties/temperature";

    @Inject
    TwinRepository repository;

    @Inject
    TwinHistory history;

    private static KafkaProbe kafka;

    @BeforeAll
    static void connect() {
        kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
    }

    @AfterAll
    static void close() {
        kafka.close();
    }

    private static void send(TelemetryReceived r) {
        Reports.send(kafka, r);
    }

    /** Writes the report to a new twin the way the service does, and stops there, as a killed process would. */
    private Outbox writeAndCrash(TelemetryReceived r) {
        ThingId id = ThingId.parse(r.thingId());
        Instant now = Instant.now();
        Twin twin = Twin.empty(id, now);
        Map<String, Object> changes = twin.applyReported(r.features(), Map.of(), r.sourceTime(), now);
        TwinChanged change = new TwinChanged(UUID.randomUUID().toString(), id.toString(), twin.revision(), 0,
                changes, now, r.eventId(), twin.delta());
        Outbox outbox = history.outbox(change, twin, null);
        assertTrue(repository.insert(twin, outbox, dev.doppel.twin.repository.TwinRepository.Copy.KEEP).await().atMost(Duration.ofSeconds(10)));
        return outbox;
    }

    @Test
    void redeliveredReportPublishesTheLostChangeAndRecordsTheLostHistoryOnce() {
        Instant t0 = Instant.parse("2026-11-20T08:00:00Z");
        TelemetryReceived first = Reports.telemetry("demo:crash1", Map.of("temperature", 19.5), t0);
        Outbox lost = writeAndCrash(first);
        try (KafkaConsumer<String, byte[]> changes = kafka.subscribe(Topics.TWIN_CHANGES)) {
            send(first);
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(changes, x -> "demo:crash1".equals(x.key()),
                    Duration.ofSeconds(20));
            assertNotNull(r, "the change of the interrupted write was never published");
            assertEquals(lost.id(), KafkaProbe.header(r, "ce_id"), "published again under its own event id");
            TwinChanged change = KafkaProbe.read(r, TwinChanged.class);
            assertEquals(1, change.revision());
            assertEquals(Map.of(TEMP, 19.5), change.changes());
        }
        // The same report a third time, then the next one: the first stays one entry in the history.
        send(first);
        send(Reports.telemetry("demo:crash1", Map.of("temperature", 20.5), t0.plusSeconds(60)));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> as("olivia").queryParam("path", TEMP)
                .get("/api/2/things/demo:crash1/history").then().statusCode(200)
                .body("value", equalTo(List.of(19.5f, 20.5f)))
                .body("revision", equalTo(List.of(1, 2)))
                .body("time[0]", equalTo("2026-11-20T08:00:00Z")));
        // Two instances may both finish one write during a rebalance: its entries are still there once.
        history.append(java.util.List.of(lost)).await().atMost(Duration.ofSeconds(10));
        as("olivia").queryParam("path", TEMP).get("/api/2/things/demo:crash1/history").then()
                .body("", hasSize(2));
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        Matcher recovered = Pattern.compile("(?m)^doppel_twin_changes_recovered_total(\\{[^}]*\\})? ([0-9.eE+]+)$").matcher(metrics);
        assertTrue(recovered.find() && Double.parseDouble(recovered.group(2)) >= 1, "counted as recovered: " + metrics);
    }

    @Test
    void nextApiWriteFinishesTheInterruptedOneFirstSoChangesStayInRevisionOrder() {
        Outbox lost = writeAndCrash(Reports.telemetry("demo:crash2", Map.of("temperature", 7.0),
                Instant.parse("2026-11-20T09:00:00Z")));
        List<TwinChanged> seen = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> changes = kafka.subscribe(Topics.TWIN_CHANGES)) {
            as("admin").contentType("application/json").body("\"hall\"")
                    .put("/api/2/things/demo:crash2/attributes/room").then().statusCode(201);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (seen.size() < 2 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : changes.poll(Duration.ofMillis(200))) {
                    if ("demo:crash2".equals(r.key())) {
                        seen.add(KafkaProbe.read(r, TwinChanged.class));
                    }
                }
            }
        }
        assertEquals(List.of(1L, 2L), seen.stream().map(TwinChanged::revision).toList(),
                "the interrupted change, then the new one");
        assertEquals(lost.id(), seen.get(0).eventId());
        as("admin").queryParam("revision", 1).get("/api/2/things/demo:crash2/history").then().statusCode(200)
                .body("features.telemetry.properties.temperature", equalTo(7.0f))
                .body("attributes.room", equalTo(null));
        as("admin").queryParam("revision", 2).get("/api/2/things/demo:crash2/history").then().statusCode(200)
                .body("attributes.room", equalTo("hall"));
    }

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user));
    }
}

package dev.doppel.twin.messaging;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.contracts.TwinRoom;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import dev.doppel.twin.testing.Reports;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Device reports on a real Kafka broker become twins in the MongoDB stand-in, readable over REST. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class TelemetryToTwinIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

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

    @Test
    void reportBecomesTwinWithDittoShapeAndEtag() {
        send(Reports.telemetry("demo:t1", Map.of("temperature", 21.5, "nested", Map.of("a", 1)), Instant.now()));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> asAdmin().get("/api/2/things/demo:t1").then()
                .statusCode(200)
                .header("ETag", "\"rev:1\"")
                .body("thingId", equalTo("demo:t1"))
                .body("features.telemetry.properties.temperature", equalTo(21.5f))
                .body("features.telemetry.properties.nested.a", equalTo(1)));
    }

    @Test
    void olderAndRedeliveredReportsDoNotChangeTheTwin() {
        Instant now = Instant.now();
        TelemetryReceived newer = Reports.telemetry("demo:t2", Map.of("temperature", 30.0), now);
        send(newer);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> asAdmin().get("/api/2/things/demo:t2").then()
                .statusCode(200).body("_revision", equalTo(1)));
        send(Reports.telemetry("demo:t2", Map.of("temperature", 5.0), now.minusSeconds(60)));
        send(newer);
        // A later report proves the ones before it were processed.
        send(Reports.telemetry("demo:t2", Map.of("humidity", 50), now.plusMillis(1)));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> asAdmin().get("/api/2/things/demo:t2").then()
                .statusCode(200)
                .body("features.telemetry.properties.humidity", equalTo(50))
                .body("features.telemetry.properties.temperature", equalTo(30.0f))
                .body("_revision", equalTo(2)));
    }

    /** The twin's first report (temperature 20.0 at {@code at}), and its revision 1 in the store. */
    private void createWithFirstReport(String thingId, Instant at) {
        send(Reports.telemetry(thingId, Map.of("temperature", 20.0), at));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> asAdmin().get("/api/2/things/" + thingId).then()
                .statusCode(200).body("_revision", equalTo(1)));
    }

    @Test
    void malformedAndHostileEventsAreSkippedWithoutTouchingTheTwinOrStoppingTheConsumer() {
        Instant now = Instant.now();
        createWithFirstReport("demo:t3", now);
        kafka.sendEvent(Topics.DEVICE_TELEMETRY, "demo:t3", EventTypes.TELEMETRY_RECEIVED, "/test",
                "not json at all".getBytes(StandardCharsets.UTF_8));
        send(Reports.telemetry("demo:t3", Map.of("$where", "sleep(1000)"), now.plusMillis(1)));
        send(Reports.telemetry("demo:t3", Map.of("a.b", 1), now.plusMillis(2)));
        send(Reports.telemetry("demo:t3", Map.of("temperature", 22.0), now.plusMillis(3)));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> asAdmin().get("/api/2/things/demo:t3").then()
                .statusCode(200)
                .body("features.telemetry.properties.temperature", equalTo(22.0f))
                .body("features.telemetry.properties.size()", equalTo(1))
                .body("_revision", equalTo(2)));
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("doppel_twin_reports_rejected_total{reason=\"malformed-event\"}"), metrics);
        assertTrue(metrics.contains("doppel_twin_reports_rejected_total{reason=\"invalid-key\"}"), metrics);
    }

    @Test
    void aReportThatWouldGrowTheTwinPastItsLimitIsRefusedAndTheConsumerMovesOn() {
        Instant now = Instant.now();
        createWithFirstReport("demo:t5", now);
        // About 330 KB of new keys: past doppel.twin.max-document-bytes (262,144).
        Map<String, Object> flood = new java.util.HashMap<>();
        for (int i = 0; i < 3000; i++) {
            flood.put("k" + i, "x".repeat(100));
        }
        try (KafkaConsumer<String, byte[]> rooms = kafka.subscribe(Topics.TWIN_ROOM)) {
            send(Reports.telemetry("demo:t5", flood, now.plusMillis(1)));
            send(Reports.telemetry("demo:t5", Map.of("temperature", 21.0), now.plusMillis(2)));
            send(Reports.telemetry("demo:t6", Map.of("temperature", 5.0), now.plusMillis(2)));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                asAdmin().get("/api/2/things/demo:t5").then().statusCode(200)
                        .body("features.telemetry.properties.temperature", equalTo(21.0f))
                        .body("features.telemetry.properties.size()", equalTo(1))
                        .body("_revision", equalTo(2));
                asAdmin().get("/api/2/things/demo:t6").then().statusCode(200)
                        .body("features.telemetry.properties.temperature", equalTo(5.0f));
            });
            String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
            assertTrue(metrics.contains("doppel_twin_reports_rejected_total{reason=\"too-large\"}"), metrics);

            // Connectivity is told the twin's room and keys, so it refuses the device's next such report itself.
            ConsumerRecord<String, byte[]> told = KafkaProbe.await(rooms, r -> "demo:t5".equals(r.key()),
                    Duration.ofSeconds(20));
            assertNotNull(told, "no room notice for demo:t5 on " + Topics.TWIN_ROOM);
            assertEquals(EventTypes.TWIN_ROOM, KafkaProbe.header(told, "ce_type"));
            TwinRoom room = KafkaProbe.read(told, TwinRoom.class);
            assertTrue(room.room() > 0 && room.room() < 262_144 && !room.open(), room.toString());
            assertEquals(Map.of("telemetry", java.util.List.of("temperature")), room.features());

            // Deleting makes room: connectivity is told the twin is open again.
            asAdmin().delete("/api/2/things/demo:t5/features/telemetry/properties/temperature").then()
                    .statusCode(204);
            ConsumerRecord<String, byte[]> opened = KafkaProbe.await(rooms, r -> "demo:t5".equals(r.key()),
                    Duration.ofSeconds(20));
            assertNotNull(opened, "no room notice for demo:t5 after the delete");
            assertTrue(KafkaProbe.read(opened, TwinRoom.class).open(), new String(opened.value()));
        }
    }

    @Test
    void aReportThatLeavesTheTwinNearlyFullIsToldToConnectivity() {
        Instant now = Instant.now();
        try (KafkaConsumer<String, byte[]> rooms = kafka.subscribe(Topics.TWIN_ROOM)) {
            // The control: a twin with plenty of room is not told (its notice would come first).
            createWithFirstReport("demo:t8", now);
            // About 150 KB of new keys: within the limit (262,144), with less room left than 131,072.
            Map<String, Object> big = new java.util.HashMap<>();
            for (int i = 0; i < 1400; i++) {
                big.put("k" + i, "x".repeat(100));
            }
            send(Reports.telemetry("demo:t8", big, now.plusMillis(1)));
            ConsumerRecord<String, byte[]> told = KafkaProbe.await(rooms, r -> "demo:t8".equals(r.key()),
                    Duration.ofSeconds(20));
            assertNotNull(told, "no room notice for demo:t8");
            TwinRoom room = KafkaProbe.read(told, TwinRoom.class);
            assertTrue(room.room() > 0 && room.room() < 131_072 && !room.open(), room.toString());
            assertEquals(1401, room.features().get("telemetry").size());
            assertTrue(room.features().get("telemetry").containsAll(java.util.List.of("temperature", "k0", "k1399")));
            asAdmin().get("/api/2/things/demo:t8").then().statusCode(200)
                    .body("features.telemetry.properties.size()", equalTo(1401));
        }
    }

    @Test
    void eachChangeIsPublishedOnTwinChangesKeyedByThingId() {
        try (KafkaConsumer<String, byte[]> changes = kafka.subscribe(Topics.TWIN_CHANGES)) {
            send(Reports.telemetry("demo:t4", Map.of("temperature", 1.5), Instant.now()));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(changes, x -> "demo:t4".equals(x.key()),
                    Duration.ofSeconds(20));
            assertNotNull(r, "no twin change published");
            assertEquals(EventTypes.TWIN_CHANGED, KafkaProbe.header(r, "ce_type"));
            assertEquals("demo:t4", KafkaProbe.header(r, "ce_subject"));
            TwinChanged change = KafkaProbe.read(r, TwinChanged.class);
            assertEquals(1, change.revision());
            assertEquals(Map.of("features/telemetry/properties/temperature", 1.5), change.changes());
        }
    }

    @Test
    void unknownThingIsProblem404AndBadIdIs400() {
        asAdmin().get("/api/2/things/demo:nope").then().statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/thing-not-found"))
                .body("status", equalTo(404))
                // Ditto's members too, as Ditto's clients read an error.
                .body("error", equalTo("things:thing.notfound"))
                .body("message", org.hamcrest.Matchers.containsString("demo:nope"))
                .body("description", equalTo("Thing not found"));
        asAdmin().get("/api/2/things/not-a-thing-id").then().statusCode(400)
                .contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/invalid-thing-id"));
    }

    @Test
    void healthIsReady() {
        given().get(management + "health/ready").then().statusCode(200);
    }

    /** Requests as the realm's admin (a real Keycloak token); access rules have their own tests. */
    private static io.restassured.specification.RequestSpecification asAdmin() {
        return given().auth().oauth2(RealInfrastructure.token("admin"));
    }
}

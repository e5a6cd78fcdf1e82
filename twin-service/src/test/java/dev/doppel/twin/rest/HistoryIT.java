package dev.doppel.twin.rest;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import dev.doppel.twin.service.TwinService;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/** Twin history: values in time order, the thing as it was, retention per tenant. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class HistoryIT {

    private static final String TEMP = "features/telemetry/properties/temperature";

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user));
    }

    private static void report(KafkaProbe kafka, String thingId, double value, Instant at) {
        TelemetryReceived r = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(thingId), "telemetry",
                Map.of("telemetry", Map.of("temperature", value)), null, at, "mqtt");
        kafka.sendEvent(Topics.DEVICE_TELEMETRY, thingId, r.type(), "/test", r);
    }

    @Test
    void valuesComeBackInTimeOrderAndTheThingCanBeRebuiltAsItWas() {
        Instant t0 = Instant.parse("2026-11-01T10:00:00Z");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            for (int i = 0; i < 3; i++) {
                report(kafka, "demo:h1", 20.0 + i, t0.plusSeconds(60L * i));
            }
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> as("olivia")
                .queryParam("path", TEMP).get("/api/2/things/demo:h1/history").then().statusCode(200)
                .body("", hasSize(3))
                .body("value", equalTo(List.of(20.0f, 21.0f, 22.0f)))
                .body("time[0]", equalTo("2026-11-01T10:00:00Z"))
                .body("revision", equalTo(List.of(1, 2, 3))));
        as("olivia").queryParam("path", TEMP).queryParam("from", "2026-11-01T10:00:30Z")
                .queryParam("to", "2026-11-01T10:01:30Z").get("/api/2/things/demo:h1/history").then()
                .body("value", equalTo(List.of(21.0f)));
        as("olivia").queryParam("revision", 2).get("/api/2/things/demo:h1/history").then().statusCode(200)
                .body("features.telemetry.properties.temperature", equalTo(21.0f)).body("_revision", equalTo(2));
        as("olivia").queryParam("at", "2026-11-01T10:00:10Z").get("/api/2/things/demo:h1/history").then()
                .statusCode(200).body("features.telemetry.properties.temperature", equalTo(20.0f));
        as("olivia").queryParam("at", "2020-01-01T00:00:00Z").get("/api/2/things/demo:h1/history").then()
                .statusCode(404);
    }

    @Test
    void apiWritesAndDeletesAreHistoryToo() {
        as("admin").contentType("application/json").body("{\"attributes\":{\"room\":\"lab\"}}")
                .put("/api/2/things/demo:h2").then().statusCode(201);
        as("admin").contentType("application/json").body("\"hall\"").put("/api/2/things/demo:h2/attributes/room")
                .then().statusCode(204);
        as("admin").delete("/api/2/things/demo:h2").then().statusCode(204);
        as("admin").queryParam("revision", 2).get("/api/2/things/demo:h2/history").then().statusCode(200)
                .body("attributes.room", equalTo("hall"));
        as("admin").queryParam("revision", 3).get("/api/2/things/demo:h2/history").then().statusCode(404);
        as("admin").queryParam("path", "attributes/room").get("/api/2/things/demo:h2/history").then()
                .body("value", equalTo(List.of("hall")));
    }

    @Test
    void historyIsKeptOnlyAsLongAsTheTenantsRetention() {
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            report(kafka, "brief:h3", 1.0, Instant.now());
            report(kafka, "demo:h3", 1.0, Instant.now());
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> as("admin").queryParam("path", TEMP)
                .get("/api/2/things/demo:h3/history").then().body("", hasSize(1)));
        // Tenant "brief" keeps history for one second (test profile); demo for the default seven days.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> as("admin").queryParam("path", TEMP)
                .get("/api/2/things/brief:h3/history").then().statusCode(200).body("", hasSize(0)));
        as("admin").queryParam("path", TEMP).get("/api/2/things/demo:h3/history").then().body("", hasSize(1));
        as("admin").get("/api/2/things/brief:h3").then().statusCode(200); // the twin itself stays
    }

    @Test
    void aRebuildThatWouldReadMoreThanTheLimitIsRefusedAndOneBelowItIsServed() {
        // The test profile allows 12 entries per rebuild: one for the PUT, one per attribute write.
        as("admin").contentType("application/json").body("{\"attributes\":{\"n\":0}}")
                .put("/api/2/things/demo:h-long").then().statusCode(201);
        for (int n = 1; n <= 14; n++) {
            as("admin").contentType("application/json").body(n).put("/api/2/things/demo:h-long/attributes/n")
                    .then().statusCode(204);
        }
        as("victor").queryParam("revision", 12).get("/api/2/things/demo:h-long/history").then().statusCode(200)
                .body("attributes.n", equalTo(11)).body("_revision", equalTo(12));
        as("victor").queryParam("revision", 15).get("/api/2/things/demo:h-long/history").then().statusCode(422)
                .contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/history-too-long"));
        as("victor").queryParam("at", Instant.now().plusSeconds(60).toString())
                .get("/api/2/things/demo:h-long/history").then().statusCode(422);
        // The values of one path are still there, however long the history.
        as("victor").queryParam("path", "attributes/n").queryParam("limit", 1000)
                .get("/api/2/things/demo:h-long/history").then().statusCode(200).body("", hasSize(14));
    }

    @Inject
    TwinService twins;

    @Test
    void reportsOfATwinWrittenTogetherEachKeepTheirValueInTheHistory() {
        Instant t0 = Instant.parse("2026-11-03T10:00:00Z");
        ThingId id = ThingId.parse("demo:h-burst");
        // Three reports of one twin in one consumed batch: one write, whose change has the last value.
        List<TwinService.ValidReport> reports = List.of(10.0, 11.0, 12.0).stream().map(v -> twins.validate(
                TelemetryReceived.of(UUID.randomUUID().toString(), id, "telemetry",
                        Map.of("telemetry", Map.of("temperature", v)), null,
                        t0.plusSeconds((long) (v - 10) * 10), "mqtt"))).toList();
        twins.applyAll(List.of(new TwinService.TwinReports(id, reports, io.opentelemetry.context.Context.root())))
                .await().atMost(Duration.ofSeconds(20));
        as("olivia").get("/api/2/things/demo:h-burst").then().statusCode(200)
                .body("features.telemetry.properties.temperature", equalTo(12.0f));
        as("olivia").queryParam("path", TEMP).get("/api/2/things/demo:h-burst/history").then().statusCode(200)
                .body("value", equalTo(List.of(10.0f, 11.0f, 12.0f)))
                .body("time", equalTo(List.of("2026-11-03T10:00:00Z", "2026-11-03T10:00:10Z", "2026-11-03T10:00:20Z")))
                .body("revision", equalTo(List.of(1, 2, 3)));
    }

    @Test
    void aSummaryGivesCountMinMaxAndMeanPerIntervalOfTheNumericValues() {
        Instant t0 = Instant.parse("2026-11-02T10:00:00Z");
        double[] values = {10, 20, 30, 5, 7, 99};
        long[] seconds = {0, 20, 40, 70, 130, 180}; // 180 s is "to": outside [from, to)
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            // One at a time, each its own write (reportsOfATwinWrittenTogether... covers merged writes).
            for (int i = 0; i < values.length; i++) {
                report(kafka, "demo:h-sum", values[i], t0.plusSeconds(seconds[i]));
                int written = i + 1;
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> as("olivia").queryParam("path", TEMP)
                        .get("/api/2/things/demo:h-sum/history").then().statusCode(200).body("", hasSize(written)));
            }
            // Not a number: a value the summary leaves out, not one it fails on.
            TelemetryReceived text = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse("demo:h-sum"),
                    "telemetry", Map.of("telemetry", Map.of("mode", "eco")), null, t0.plusSeconds(80), "mqtt");
            kafka.sendEvent(Topics.DEVICE_TELEMETRY, "demo:h-sum", text.type(), "/test", text);
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> as("olivia")
                .queryParam("path", "features/telemetry/properties/mode").get("/api/2/things/demo:h-sum/history")
                .then().statusCode(200).body("", hasSize(1)));
        as("olivia").queryParam("path", "features/telemetry/properties/mode").queryParam("from", "2026-11-02T10:00:00Z")
                .queryParam("to", "2026-11-02T10:03:00Z").get("/api/2/things/demo:h-sum/history/summary").then()
                .statusCode(200).body("buckets", hasSize(0));
        as("victor").queryParam("path", TEMP).queryParam("from", "2026-11-02T10:00:00Z")
                .queryParam("to", "2026-11-02T10:03:00Z").queryParam("interval", "1m")
                .get("/api/2/things/demo:h-sum/history/summary").then().statusCode(200)
                .body("interval", equalTo("60000ms"))
                .body("buckets.start", equalTo(List.of("2026-11-02T10:00:00Z", "2026-11-02T10:01:00Z", "2026-11-02T10:02:00Z")))
                .body("buckets.count", equalTo(List.of(3, 1, 1)))
                .body("buckets.min", equalTo(List.of(10.0f, 5.0f, 7.0f)))
                .body("buckets.max", equalTo(List.of(30.0f, 5.0f, 7.0f)))
                .body("buckets.avg", equalTo(List.of(20.0f, 5.0f, 7.0f)));
        // The same over GraphQL.
        as("olivia").contentType("application/json").body(Map.of("query", """
                { twin(id: "demo:h-sum") { historySummary(path: "features/telemetry/properties/temperature",
                    from: "2026-11-02T10:00:00Z", to: "2026-11-02T10:03:00Z", interval: "1m") {
                    intervalMs buckets { start count min max avg } } } }"""))
                .post("/graphql").then().statusCode(200)
                .body("data.twin.historySummary.intervalMs", equalTo(60000))
                .body("data.twin.historySummary.buckets.count", equalTo(List.of(3, 1, 1)))
                .body("data.twin.historySummary.buckets.avg", equalTo(List.of(20.0f, 5.0f, 7.0f)));

        // Refusals: no path, more intervals than a chart needs, another tenant's twin.
        as("olivia").get("/api/2/things/demo:h-sum/history/summary").then().statusCode(400)
                .body("type", equalTo("https://doppel.dev/problems/invalid-path"));
        as("olivia").queryParam("path", TEMP).queryParam("from", "2026-01-01T00:00:00Z")
                .queryParam("to", "2026-11-02T10:03:00Z").queryParam("interval", "1s")
                .get("/api/2/things/demo:h-sum/history/summary").then().statusCode(400)
                .body("type", equalTo("https://doppel.dev/problems/invalid-interval"));
        as("mallory").queryParam("path", TEMP).get("/api/2/things/demo:h-sum/history/summary").then().statusCode(404);
    }

    @Test
    void anotherTenantsHistoryIsNotThere() {
        as("mallory").get("/api/2/things/demo:h1/history").then().statusCode(404);
        given().get("/api/2/things/demo:h1/history").then().statusCode(401);
        as("olivia").queryParam("from", "yesterday").get("/api/2/things/demo:h1/history").then().statusCode(400);
    }
}

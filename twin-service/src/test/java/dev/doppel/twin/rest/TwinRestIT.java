package dev.doppel.twin.rest;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;

/** The Ditto-style REST API of twins, cases after Ditto's HTTP API documentation, on the real stack. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class TwinRestIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static final String LAMP = "{\"attributes\":{\"site\":\"a\"},\"features\":{\"lamp\":{\"properties\":{\"on\":false}}}}";

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user));
    }

    private static void create(String id, String body) {
        as("admin").contentType("application/json").body(body).put("/api/2/things/" + id).then().statusCode(201);
    }

    @Test
    void putCreatesWith201AndLocationThenReplacesWith204AndANewEtag() {
        as("admin").contentType("application/json").body(LAMP).put("/api/2/things/demo:r1").then()
                .statusCode(201)
                .header("Location", endsWith("/api/2/things/demo:r1"))
                .header("ETag", "\"rev:1\"")
                .body("thingId", equalTo("demo:r1"))
                .body("features.lamp.properties.on", equalTo(false));
        as("admin").contentType("application/json").body("{\"attributes\":{\"site\":\"b\"}}")
                .put("/api/2/things/demo:r1").then().statusCode(204).header("ETag", "\"rev:2\"");
        as("admin").get("/api/2/things/demo:r1").then().statusCode(200)
                .body("attributes.site", equalTo("b"))
                .body("features.size()", equalTo(0));
    }

    @Test
    void everyLevelBelowTheThingCanBeReadWrittenAndDeleted() {
        create("demo:r2", LAMP);
        as("admin").contentType("application/json").body("\"lab\"")
                .put("/api/2/things/demo:r2/attributes/location/room").then().statusCode(201)
                .header("Location", endsWith("/api/2/things/demo:r2/attributes/location/room"));
        as("admin").get("/api/2/things/demo:r2/attributes/location").then().statusCode(200).body("room", equalTo("lab"));
        as("admin").get("/api/2/things/demo:r2/attributes/location/room").then().statusCode(200).body(equalTo("\"lab\""));
        as("admin").contentType("application/json").body("true")
                .put("/api/2/things/demo:r2/features/lamp/properties/on").then().statusCode(204);
        as("admin").get("/api/2/things/demo:r2/features/lamp/properties/on").then().body(equalTo("true"));
        as("admin").contentType("application/json").body("[\"org.example:lamp:1.0.0\"]")
                .put("/api/2/things/demo:r2/features/lamp/definition").then().statusCode(201);
        as("admin").contentType("application/json").body("\"org.example:room-lamp:2.0.0\"")
                .put("/api/2/things/demo:r2/definition").then().statusCode(201);
        as("admin").get("/api/2/things/demo:r2").then()
                .body("definition", equalTo("org.example:room-lamp:2.0.0"))
                .body("features.lamp.definition[0]", equalTo("org.example:lamp:1.0.0"));
        as("admin").delete("/api/2/things/demo:r2/attributes/location").then().statusCode(204);
        as("admin").get("/api/2/things/demo:r2/attributes/location").then().statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/path-not-found"));
        as("admin").contentType("application/json").body("1")
                .put("/api/2/things/demo:r2/features/nope/properties/x").then().statusCode(404);
        as("admin").delete("/api/2/things/demo:r2").then().statusCode(204);
        as("admin").get("/api/2/things/demo:r2").then().statusCode(404);
    }

    @Test
    void mergePatchRemovesNullsMergesObjectsAndReplacesArrays() {
        create("demo:r3", "{\"attributes\":{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"list\":[1,2]}}");
        as("admin").contentType(ThingsResource.MERGE_PATCH).body("{\"a\":null,\"b\":{\"c\":5},\"list\":[9]}")
                .patch("/api/2/things/demo:r3/attributes").then().statusCode(204);
        Map<String, Object> attributes = as("admin").get("/api/2/things/demo:r3/attributes").then().statusCode(200)
                .extract().jsonPath().getMap("");
        assertEquals(Map.of("b", Map.of("c", 5, "d", 3), "list", List.of(9)), attributes);
        as("admin").contentType("application/json").body("{\"a\":1}").patch("/api/2/things/demo:r3/attributes")
                .then().statusCode(415);
    }

    @Test
    void ofTwoWritersWithTheSameIfMatchExactlyOneWins() throws Exception {
        create("demo:r4", LAMP);
        List<CompletableFuture<Integer>> writers = new ArrayList<>();
        for (String value : new String[] {"\"x\"", "\"y\""}) {
            writers.add(CompletableFuture.supplyAsync(() -> as("admin").contentType("application/json")
                    .header("If-Match", "\"rev:1\"").body(value).put("/api/2/things/demo:r4/attributes/site")
                    .then().extract().statusCode()));
        }
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<Integer> w : writers) {
            statuses.add(w.get());
        }
        statuses.sort(Integer::compareTo);
        assertEquals(List.of(204, 412), statuses);
        as("admin").contentType("application/json").header("If-None-Match", "*").body(LAMP)
                .put("/api/2/things/demo:r4").then().statusCode(412)
                .body("type", equalTo("https://doppel.dev/problems/precondition-failed"));
        as("admin").header("If-None-Match", "\"rev:2\"").get("/api/2/things/demo:r4").then().statusCode(304);
    }

    @Test
    void manyEditsAtOnceAreWrittenTogetherEachWithItsOwnRevisionAndNoneLost() throws Exception {
        int twins = 8;
        int perTwin = 6;
        for (int i = 0; i < twins; i++) {
            create("demo:many-" + i, LAMP);
        }
        String token = RealInfrastructure.token("admin");
        ExecutorService pool = Executors.newFixedThreadPool(twins * perTwin + 1);
        try {
            Map<Integer, List<Future<String>>> etags = new HashMap<>();
            for (int i = 0; i < twins; i++) {
                for (int k = 0; k < perTwin; k++) {
                    String path = "/api/2/things/demo:many-" + i + "/attributes/k" + k;
                    String value = Integer.toString(k);
                    etags.computeIfAbsent(i, x -> new ArrayList<>()).add(pool.submit(() -> given().auth()
                            .oauth2(token).contentType("application/json").body(value).put(path).then()
                            .statusCode(201).extract().header("ETag")));
                }
            }
            // Among them, an edit whose condition fails is refused alone.
            Future<Integer> stale = pool.submit(() -> given().auth().oauth2(token).contentType("application/json")
                    .header("If-Match", "\"rev:99\"").body("1").put("/api/2/things/demo:many-0/attributes/stale")
                    .then().extract().statusCode());
            assertEquals(412, stale.get());
            for (int i = 0; i < twins; i++) {
                Set<String> tags = new HashSet<>();
                for (Future<String> f : etags.get(i)) {
                    tags.add(f.get());
                }
                Set<String> expected = new HashSet<>();
                for (int rev = 2; rev < 2 + perTwin; rev++) {
                    expected.add("\"rev:" + rev + "\"");
                }
                assertEquals(expected, tags, "every edit of demo:many-" + i + " has a revision of its own");
                Map<String, Object> attributes = as("admin").get("/api/2/things/demo:many-" + i).then().statusCode(200)
                        .header("ETag", "\"rev:" + (1 + perTwin) + "\"").extract().jsonPath().getMap("attributes");
                for (int k = 0; k < perTwin; k++) {
                    assertEquals(k, attributes.get("k" + k), "edit k" + k + " of demo:many-" + i + " was lost");
                }
                assertEquals(null, attributes.get("stale"));
            }
        } finally {
            pool.shutdownNow();
        }
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        Matcher largest = Pattern.compile("(?m)^doppel_twin_edits_batch_max(?:\\{[^}]*\\})? ([0-9.E]+)").matcher(metrics);
        assertTrue(largest.find(), "no doppel_twin_edits_batch in the metrics");
        assertTrue(Double.parseDouble(largest.group(1)) > 1, "edits that came at once were written one at a time");
    }

    @Test
    void desiredStateShowsInTheDeltaUntilTheDeviceReportsIt() {
        create("demo:r5", "{\"features\":{\"telemetry\":{\"properties\":{\"temperature\":20.0}}}}");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> changes = kafka.subscribe(Topics.TWIN_CHANGES)) {
            as("olivia").contentType("application/json").body("22.0")
                    .put("/api/2/things/demo:r5/features/telemetry/desiredProperties/temperature")
                    .then().statusCode(201);
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(changes, x -> "demo:r5".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r, "the desired write published no change");
            assertEquals(Map.of("telemetry", Map.of("temperature", 22.0)), KafkaProbe.read(r, TwinChanged.class).delta());
            assertNull(KafkaProbe.header(r, TwinChanged.DELTA_HEADER), "the delta changed, the change says otherwise");
            as("olivia").get("/api/2/things/demo:r5/delta").then().statusCode(200)
                    .body("features.telemetry.temperature", equalTo(22.0f));
            as("olivia").get("/api/2/things/demo:r5/features/telemetry/delta").then().statusCode(200)
                    .body("desiredProperties.temperature", equalTo(22.0f));
            TelemetryReceived report = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse("demo:r5"),
                    "telemetry", Map.of("telemetry", Map.of("temperature", 22.0)), null, Instant.now(), "mqtt");
            kafka.sendEvent(Topics.DEVICE_TELEMETRY, "demo:r5", report.type(), "/test", report);
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> as("olivia").get("/api/2/things/demo:r5/delta")
                    .then().body("features.size()", equalTo(0)));
            ConsumerRecord<String, byte[]> caughtUp = KafkaProbe.await(changes, x -> "demo:r5".equals(x.key()),
                    Duration.ofSeconds(10));
            assertEquals(Map.of(), KafkaProbe.read(caughtUp, TwinChanged.class).delta());
            assertNull(KafkaProbe.header(caughtUp, TwinChanged.DELTA_HEADER), "the delta emptied, the change says otherwise");
            // A report that leaves the (empty) delta as it was says so: command-service passes it over unread.
            TelemetryReceived other = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse("demo:r5"),
                    "telemetry", Map.of("telemetry", Map.of("humidity", 40)), null, Instant.now(), "mqtt");
            kafka.sendEvent(Topics.DEVICE_TELEMETRY, "demo:r5", other.type(), "/test", other);
            ConsumerRecord<String, byte[]> unchanged = KafkaProbe.await(changes, x -> "demo:r5".equals(x.key()),
                    Duration.ofSeconds(15));
            assertEquals(40, ((Number) KafkaProbe.read(unchanged, TwinChanged.class).changes()
                    .get("features/telemetry/properties/humidity")).intValue());
            assertEquals(TwinChanged.DELTA_UNCHANGED, KafkaProbe.header(unchanged, TwinChanged.DELTA_HEADER));
        }
    }

    @Test
    void aThingReadAsDittoReturnsItCanBeWrittenBackAsItIs() {
        create("demo:r-rmw", LAMP);
        // Read as a Ditto tool reads it: with its policy id (its own, Ditto's default) and revision.
        String read = as("admin").get("/api/2/things/demo:r-rmw").then().statusCode(200)
                .body("policyId", equalTo("demo:r-rmw")).extract().asString();
        assertTrue(read.contains("\"_revision\""), read);
        // Changed and sent back whole, policyId, _revision and timestamps included: taken.
        as("admin").contentType("application/json").body(read.replace("\"site\":\"a\"", "\"site\":\"b\""))
                .put("/api/2/things/demo:r-rmw").then().statusCode(204);
        as("admin").get("/api/2/things/demo:r-rmw/attributes/site").then().statusCode(200).body(equalTo("\"b\""));
        as("admin").contentType(ThingsResource.MERGE_PATCH).body("{\"policyId\":\"demo:r-rmw\",\"attributes\":{\"n\":1}}")
                .patch("/api/2/things/demo:r-rmw").then().statusCode(204);
        as("admin").get("/api/2/things/demo:r-rmw?fields=policyId,attributes/n").then().statusCode(200)
                .body("policyId", equalTo("demo:r-rmw")).body("attributes.n", equalTo(1));
        // A policy id that is not even a string is still refused, and nothing changes.
        as("admin").contentType("application/json").body("{\"policyId\":{\"x\":1},\"attributes\":{}}")
                .put("/api/2/things/demo:r-rmw").then().statusCode(400);
        as("admin").get("/api/2/things/demo:r-rmw/attributes/n").then().statusCode(200).body(equalTo("1"));
    }

    @Test
    void fieldsSelectPartsAndIdsListsOnlyReadableThings() {
        create("demo:r6", LAMP);
        as("admin").get("/api/2/things/demo:r6?fields=thingId,attributes/site,_revision").then().statusCode(200)
                .body("thingId", equalTo("demo:r6"))
                .body("attributes.site", equalTo("a"))
                .body("_revision", equalTo(1))
                .body("features", equalTo(null));
        create("other:r6", LAMP);
        as("olivia").get("/api/2/things?ids=demo:r6,other:r6,demo:missing").then().statusCode(200)
                .body("", hasSize(1)).body("[0].thingId", equalTo("demo:r6"));
        as("admin").get("/api/2/things?ids=other:r6,demo:r6").then().statusCode(200)
                .body("thingId", equalTo(List.of("other:r6", "demo:r6")));
    }

    @Test
    void fieldsReadAsDittoWritesThemWithParenthesesAndWildcards() {
        as("admin").contentType("application/json").body("{\"attributes\":{\"complex\":{\"some\":1,\"serialNo\":\"s-9\","
                + "\"other\":true},\"site\":\"a\"},\"features\":{\"lamp\":{\"properties\":{\"on\":true,\"level\":3}},"
                + "\"fan\":{\"properties\":{\"on\":false}},\"meter\":{\"properties\":{\"kwh\":7}}}}")
                .put("/api/2/things/demo:r-fields").then().statusCode(201);
        as("admin").get("/api/2/things/demo:r-fields?fields=thingId,attributes/complex(some,serialNo),features/*/properties/on")
                .then().statusCode(200)
                .body("thingId", equalTo("demo:r-fields"))
                .body("attributes.complex", equalTo(java.util.Map.of("some", 1, "serialNo", "s-9")))
                .body("attributes.site", equalTo(null))
                .body("features.lamp.properties", equalTo(java.util.Map.of("on", true)))
                .body("features.fan.properties", equalTo(java.util.Map.of("on", false)))
                .body("features.meter", equalTo(null));
        as("admin").get("/api/2/things/demo:r-fields?fields=attributes(site,complex(other))").then().statusCode(200)
                .body("attributes", equalTo(java.util.Map.of("site", "a", "complex", java.util.Map.of("other", true))));
        as("admin").queryParam("fields", "attributes(site").get("/api/2/things/demo:r-fields").then().statusCode(400)
                .body("type", equalTo("https://doppel.dev/problems/invalid-fields"));
        as("admin").queryParam("filter", "eq(thingId,\"demo:r-fields\")")
                .queryParam("fields", "features/*/properties/on").get("/api/2/search/things").then().statusCode(200)
                .body("items[0].features.lamp.properties.on", equalTo(true))
                .body("items[0].thingId", equalTo(null));
    }

    @Test
    void operatorsWriteDesiredStateOnlyViewersNothingOtherTenantsNotAtAll() {
        create("demo:r7", LAMP);
        String desired = "/api/2/things/demo:r7/features/lamp/desiredProperties/on";
        as("victor").contentType("application/json").body("true").put(desired).then().statusCode(403);
        as("olivia").contentType("application/json").body("\"b\"").put("/api/2/things/demo:r7/attributes/site")
                .then().statusCode(403);
        as("mallory").contentType("application/json").body("true").put(desired).then().statusCode(404);
        as("olivia").contentType("application/json").body("true").put(desired).then().statusCode(201);
        as("olivia").contentType(ThingsResource.MERGE_PATCH).body("{\"on\":false}")
                .patch("/api/2/things/demo:r7/features/lamp/desiredProperties").then().statusCode(204);
        as("victor").get(desired).then().statusCode(200).body(equalTo("false"));
    }

    @Test
    void badWritesAreProblemsAndLeaveTheThingAsItWas() {
        create("demo:r8", LAMP);
        as("admin").contentType("application/json").body("{\"$where\":1}").put("/api/2/things/demo:r8/attributes")
                .then().statusCode(400).contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/invalid-key"));
        as("admin").contentType("application/json").body("{\"attributes\":").put("/api/2/things/demo:r8")
                .then().statusCode(400).body("type", equalTo("https://doppel.dev/problems/invalid-json"));
        as("admin").contentType("application/json").body("\"" + "x".repeat(300 * 1024) + "\"")
                .put("/api/2/things/demo:r8/attributes/blob").then().statusCode(413);
        as("admin").contentType("application/json").body("1").put("/api/2/things/demo:r8/nonsense/x")
                .then().statusCode(400).body("type", equalTo("https://doppel.dev/problems/invalid-path"));
        as("admin").contentType("application/json").body("{\"thingId\":\"demo:other\"}").put("/api/2/things/demo:r8")
                .then().statusCode(400);
        as("admin").contentType("application/json").body("{\"features\":{\"f\":{\"colour\":1}}}")
                .put("/api/2/things/demo:r8").then().statusCode(400);
        as("admin").get("/api/2/things/demo:r8").then().statusCode(200).header("ETag", "\"rev:1\"")
                .body("attributes.site", equalTo("a"));
    }
}

package dev.doppel.connectivity.adapter.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Eclipse Hono's HTTP adapter, with RestAssured as the device, against the real broker and registry. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class HttpAdapterIT {

    private static final String PASSWORD = "http-secret";
    private static void register(String deviceId) {
        String admin = RealInfrastructure.token("admin");
        given().auth().oauth2(admin).contentType("application/json").body("{\"enabled\":true}")
                .put("/api/registry/devices/demo/" + deviceId).then().statusCode(org.hamcrest.Matchers.lessThan(300));
        given().auth().oauth2(admin).contentType("application/json")
                .body("[{\"type\":\"hashed-password\",\"auth-id\":\"" + deviceId + "\",\"secrets\":[{\"pwd-plain\":\""
                        + PASSWORD + "\"}]}]")
                .put("/api/registry/credentials/demo/" + deviceId).then().statusCode(org.hamcrest.Matchers.lessThan(300));
    }

    private static io.restassured.specification.RequestSpecification device(String deviceId, String password) {
        return given().auth().preemptive().basic(deviceId + "@demo", password);
    }

    @Test
    void telemetryIsAcceptedOnceKafkaHasItAndBadInputIsAProblem() {
        register("http-1");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            device("http-1", PASSWORD).contentType("application/json").body("{\"temperature\":19.5}")
                    .post("/telemetry").then().statusCode(202);
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:http-1".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r, "no telemetry event");
            TelemetryReceived t = KafkaProbe.read(r, TelemetryReceived.class);
            assertEquals(Map.of("temperature", 19.5), t.features().get("telemetry"));
            assertEquals("http", t.transport());
        }
        device("http-1", PASSWORD).contentType("application/json").body("{\"temperature\":").post("/telemetry")
                .then().statusCode(400).contentType("application/problem+json");
        device("http-1", PASSWORD).contentType("text/plain").body("hot").post("/telemetry").then().statusCode(415);
        device("http-1", "wrong").contentType("application/json").body("{}").post("/telemetry").then().statusCode(401);
        given().contentType("application/json").body("{}").post("/telemetry").then().statusCode(401);
        device("http-1", PASSWORD).header("hono-ttd", "soon").contentType("application/json").body("{}")
                .post("/telemetry").then().statusCode(400);
        // The same body limit as MQTT's, before any login is checked.
        device("http-1", PASSWORD).contentType("application/json").body("{\"v\":\"" + "x".repeat(65_536) + "\"}")
                .post("/telemetry").then().statusCode(413).contentType("application/problem+json");
        device("http-1", "wrong").contentType("application/json").body("{\"v\":\"" + "x".repeat(65_536) + "\"}")
                .post("/event").then().statusCode(413);
    }

    @Test
    void aWaitingDeviceGetsItsCommandInTheResponseAndAnswersIt() throws Exception {
        register("http-2");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS);
                KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
            CompletableFuture<Response> polling = CompletableFuture.supplyAsync(() -> device("http-2", PASSWORD)
                    .header("hono-ttd", "20").contentType("application/json").body("{\"temperature\":20}")
                    .post("/event"));
            // The wait is announced (ttd=20), as Hono does, so that queued commands go out now.
            ConsumerRecord<String, byte[]> ttd = KafkaProbe.await(connections,
                    x -> "demo:http-2".equals(x.key()) && KafkaProbe.read(x, DeviceConnectionChanged.class).ttd() == 20,
                    Duration.ofSeconds(10));
            assertNotNull(ttd, "no ttd announced");
            String id = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, "demo:http-2", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, "demo:http-2", "switch", "application/json",
                            "{\"on\":true}".getBytes(StandardCharsets.UTF_8), true, Instant.now(),
                            Instant.now().plusSeconds(30), null));
            Response answer = polling.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(200, answer.statusCode());
            assertEquals("switch", answer.header("hono-command"));
            assertEquals(id, answer.header("hono-cmd-req-id"));
            assertEquals("{\"on\":true}", answer.body().asString());
            ConsumerRecord<String, byte[]> delivered = KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.DELIVERED;
            }, Duration.ofSeconds(10));
            assertNotNull(delivered, "handing the command out is its DELIVERED");

            device("http-2", PASSWORD).header("hono-cmd-status", "200").contentType("application/json")
                    .body("{\"switched\":true}").post("/command/res/" + id).then().statusCode(202);
            ConsumerRecord<String, byte[]> done = KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.SUCCEEDED;
            }, Duration.ofSeconds(10));
            assertNotNull(done, "the answer was not reported");
            // Only the device that got the command may answer it, and only once.
            device("http-2", PASSWORD).header("hono-cmd-status", "200").body("{}").post("/command/res/" + id)
                    .then().statusCode(404);
        }
    }

    @Test
    void aWaitWithoutCommandEndsWith202() {
        register("http-3");
        long t0 = System.nanoTime();
        device("http-3", PASSWORD).header("hono-ttd", "2").post("/telemetry").then().statusCode(202);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        org.junit.jupiter.api.Assertions.assertTrue(ms >= 1500, "it waited " + ms + " ms");
    }

    @Test
    void honoTtdAndHonoCmdStatusWorkAsQueryParametersToo() throws Exception {
        register("http-4");
        long t0 = System.nanoTime();
        device("http-4", PASSWORD).contentType("application/json").body("{}").post("/telemetry?hono-ttd=2").then()
                .statusCode(202);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        org.junit.jupiter.api.Assertions.assertTrue(ms >= 1500, "hono-ttd as a query parameter did not wait: " + ms);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
            CompletableFuture<Response> polling = CompletableFuture.supplyAsync(() -> device("http-4", PASSWORD)
                    .contentType("application/json").body("{}").post("/event?hono-ttd=20"));
            String id = UUID.randomUUID().toString();
            Response answer = null;
            // Sent until the wait has begun (the command goes out only while the device waits).
            for (int i = 0; i < 20 && answer == null; i++) {
                kafka.sendEvent(Topics.COMMANDS, "demo:http-4", EventTypes.COMMAND_REQUESTED, "/test",
                        new CommandRequested(id, "demo:http-4", "reset", "text/plain", new byte[0], true, Instant.now(),
                                Instant.now().plusSeconds(30), null));
                try {
                    answer = polling.get(1, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException notYet) {
                    // the wait had not begun yet
                }
            }
            assertNotNull(answer, "no command came back to the waiting device");
            assertEquals(id, answer.header("hono-cmd-req-id"));
            device("http-4", PASSWORD).body("").post("/command/res/" + id + "?hono-cmd-status=204").then()
                    .statusCode(202);
            ConsumerRecord<String, byte[]> done = KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.SUCCEEDED;
            }, Duration.ofSeconds(10));
            assertNotNull(done, "the answer with hono-cmd-status as a query parameter was not reported");
            assertEquals(204, KafkaProbe.read(done, CommandStatusChanged.class).statusCode());
        }
    }

    @Test
    void aLoginRememberedForSpeedStillFollowsPasswordChangesAndDisabling() {
        register("http-5");
        String admin = RealInfrastructure.token("admin");
        device("http-5", PASSWORD).contentType("application/json").body("{}").post("/telemetry").then().statusCode(202);
        device("http-5", PASSWORD).contentType("application/json").body("{}").post("/telemetry").then().statusCode(202);
        given().auth().oauth2(admin).contentType("application/json")
                .body("[{\"type\":\"hashed-password\",\"auth-id\":\"http-5\",\"secrets\":[{\"pwd-plain\":\"new-password-5\"}]}]")
                .put("/api/registry/credentials/demo/http-5").then().statusCode(204);
        device("http-5", PASSWORD).contentType("application/json").body("{}").post("/telemetry").then()
                .statusCode(401);
        device("http-5", "new-password-5").contentType("application/json").body("{}").post("/telemetry").then()
                .statusCode(202);
        given().auth().oauth2(admin).contentType("application/json").body("{\"enabled\":false}")
                .put("/api/registry/devices/demo/http-5").then().statusCode(204);
        device("http-5", "new-password-5").contentType("application/json").body("{}").post("/telemetry").then()
                .statusCode(403);
    }

    @Test
    void aDeviceDisabledThroughAnotherInstanceIsRefusedHereWithinTheAnswersKeptTime() {
        register("http-6");
        device("http-6", PASSWORD).contentType("application/json").body("{}").post("/telemetry").then().statusCode(202);
        // Another instance's registry API writes the same store; this instance's memory is not told.
        try (MongoClient mongo = MongoClients.create(RealInfrastructure.mongoConnectionString())) {
            mongo.getDatabase("doppel-connectivity").getCollection("devices")
                    .updateOne(Filters.eq("_id", "demo:http-6"), Updates.set("enabled", false));
        }
        // doppel.registry.answers-kept is 5 s: refused within it (and a little time for the requests).
        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(250))
                .until(() -> device("http-6", PASSWORD).contentType("application/json").body("{}").post("/telemetry")
                        .then().extract().statusCode() == 403);
    }
}

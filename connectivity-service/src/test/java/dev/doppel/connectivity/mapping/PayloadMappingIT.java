package dev.doppel.connectivity.mapping;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import dev.doppel.connectivity.adapter.mqtt.MqttAdapter;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;

/** Custom JSONata mappings: stored per tenant, named by devices, tried before use, applied to real messages. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class PayloadMappingIT {

    private static final String PASSWORD = "mapping-secret";
    private static final String CSV = "($p := $split($base64decode($), \",\"); "
            + "{\"temperature\": $number($p[0]), \"humidity\": $number($p[1])})";

    private static RequestSpecification admin() {
        return given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json");
    }

    private static RequestSpecification device(String id) {
        return given().auth().preemptive().basic(id + "@demo", PASSWORD);
    }

    private static void putMapping(String name, String expression) {
        admin().body(Map.of("expression", expression)).put("/api/registry/mappings/demo/" + name)
                .then().statusCode(lessThan(300));
    }

    private static void register(String id, String mapping) {
        admin().body(mapping == null ? "{}" : "{\"mapping\":\"" + mapping + "\"}").put("/api/registry/devices/demo/" + id)
                .then().statusCode(lessThan(300));
        admin().body("[{\"type\":\"hashed-password\",\"auth-id\":\"" + id + "\",\"secrets\":[{\"pwd-plain\":\""
                + PASSWORD + "\"}]}]").put("/api/registry/credentials/demo/" + id).then().statusCode(204);
    }

    @Test
    void aDeviceWithACustomMappingSendsItsOwnFormat() {
        putMapping("csv-climate", CSV);
        admin().get("/api/registry/mappings/demo/csv-climate").then().statusCode(200)
                .body("expression", equalTo(CSV));
        register("csv-1", "csv-climate");
        admin().get("/api/registry/devices/demo/csv-1").then().body("mapping", equalTo("csv-climate"));
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            device("csv-1").contentType("text/plain").body("21.5,40").post("/telemetry").then().statusCode(202);
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:csv-1".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r, "the mapped report did not arrive");
            assertEquals(Map.of("temperature", 21.5, "humidity", 40),
                    KafkaProbe.read(r, TelemetryReceived.class).features().get("telemetry"));

            // Payloads the mapping cannot read are the device's error, and nothing is sent.
            device("csv-1").contentType("text/plain").body("warm").post("/telemetry").then().statusCode(400)
                    .contentType("application/problem+json");
            assertNull(KafkaProbe.await(telemetry, x -> "demo:csv-1".equals(x.key()), Duration.ofSeconds(2)));
        }
        // In use, so it stays.
        admin().delete("/api/registry/mappings/demo/csv-climate").then().statusCode(409)
                .contentType("application/problem+json");
    }

    @Test
    void aMappingIsTriedBeforeDevicesUseIt() {
        putMapping("watts", "{\"features\": {\"power\": {\"properties\": {\"watts\": w * 1000}}}}");
        admin().body("{\"payload\": {\"w\": 1.5}}").post("/api/registry/mappings/demo/watts/try").then()
                .statusCode(200).body("features.power.watts", equalTo(1500));
        // An unsaved expression, a binary sample.
        admin().body(Map.of("expression", CSV, "payloadBase64", "MTksNTU=", "contentType", "text/plain"))
                .post("/api/registry/mappings/demo/watts/try").then().statusCode(200)
                .body("features.telemetry.temperature", equalTo(19)).body("features.telemetry.humidity", equalTo(55));
        admin().body(Map.of("expression", "$error(\"sensor fault\")", "payload", Map.of()))
                .post("/api/registry/mappings/demo/watts/try").then().statusCode(422)
                .body("type", containsString("mapping-failed")).body("detail", containsString("sensor fault"));
        admin().body(Map.of("expression", "($f := function($x) { $f($x + 1) }; $f(0))", "payload", Map.of()))
                .post("/api/registry/mappings/demo/watts/try").then().statusCode(422)
                .body("type", containsString("mapping-timeout"));
        admin().body(Map.of("expression", "{\"a\": ")).put("/api/registry/mappings/demo/broken").then()
                .statusCode(400).body("type", containsString("invalid-mapping"));
        admin().body("{\"mapping\":\"no-such-mapping\"}").put("/api/registry/devices/demo/unmapped").then()
                .statusCode(400).body("type", containsString("mapping-not-found"));
        admin().get("/api/registry/mappings/demo/no-such-mapping").then().statusCode(404);
        admin().delete("/api/registry/mappings/demo/watts").then().statusCode(204);
    }

    @Test
    void aDevicesDefaultContentTypeAppliesToMessagesThatDeclareNone() throws Exception {
        putMapping("csv-climate", CSV);
        register("csv-quiet", "csv-climate");
        admin().body("{\"mapping\":\"csv-climate\",\"defaults\":{\"content-type\":\"text/plain\"}}")
                .put("/api/registry/devices/demo/csv-2").then().statusCode(lessThan(300));
        admin().body("[{\"type\":\"hashed-password\",\"auth-id\":\"csv-2\",\"secrets\":[{\"pwd-plain\":\""
                + PASSWORD + "\"}]}]").put("/api/registry/credentials/demo/csv-2").then().statusCode(204);
        admin().get("/api/registry/devices/demo/csv-2").then().body("defaults.content-type", equalTo("text/plain"));
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            // No Content-Type header at all (RestAssured always sends one, the JDK's client does not).
            assertEquals(202, postWithoutContentType("csv-2", "22,41"));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:csv-2".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r, "the report of a device with a default content type did not arrive");
            assertEquals(Map.of("temperature", 22, "humidity", 41),
                    KafkaProbe.read(r, TelemetryReceived.class).features().get("telemetry"));
            // Without a default, an undeclared payload is taken to be JSON, and CSV is not.
            assertEquals(400, postWithoutContentType("csv-quiet", "22,41"));
            assertNull(KafkaProbe.await(telemetry, x -> "demo:csv-quiet".equals(x.key()), Duration.ofSeconds(2)));
        }
        admin().body("{\"defaults\":{\"content-type\":\"not a type\"}}").put("/api/registry/devices/demo/csv-2")
                .then().statusCode(400).contentType("application/problem+json")
                .body("type", containsString("invalid-content-type"));
        admin().body("{\"defaults\":{\"ttl\":30}}").put("/api/registry/devices/demo/csv-2")
                .then().statusCode(400).body("type", containsString("unsupported-default"));
        // Refused updates changed nothing.
        admin().get("/api/registry/devices/demo/csv-2").then().body("defaults.content-type", equalTo("text/plain"))
                .body("mapping", equalTo("csv-climate"));
    }

    @Test
    void aMappingThatRunsForItsWholeTimeLimitHoldsUpNoOtherDevice() throws Exception {
        // (.*a){14}$ against 40 a's and a "!" backtracks until the mapping's time limit (100 ms) cuts it
        // off (JsonataMappingTest): each message of this device costs that much.
        putMapping("backtracking", "{\"v\": $match(s, /(.*a){14}$/)}");
        register("slow-1", "backtracking");
        register("quick-1", null);
        String slowPayload = "{\"s\":\"" + "a".repeat(40) + "!\"}";
        MqttAsyncClient slow = mqtt5("slow-1");
        MqttAsyncClient quick = mqtt5("quick-1");
        try {
            List<IMqttToken> slowOnes = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                slowOnes.add(slow.publish("telemetry", message(slowPayload)));
            }
            // Sent after the thirty, on a connection of the same server (one event loop for all of them).
            IMqttToken quickOne = quick.publish("telemetry", message("{\"temperature\": 21}"));
            quickOne.waitForCompletion(10_000);
            long answeredBefore = slowOnes.stream().filter(IMqttToken::isComplete).count();
            assertEquals(0x00, quickOne.getReasonCodes()[0], "the quick device's message was not accepted");
            // The positive control: the slow device's mappings did run, each to its limit, and each was refused.
            for (IMqttToken t : slowOnes) {
                t.waitForCompletion(30_000);
                assertEquals(0x99, t.getReasonCodes()[0], "a slow message was not refused as its mapping's failure");
            }
            assertTrue(answeredBefore < 10, answeredBefore + " of the slow device's 30 messages (3 s of mapping) were "
                    + "answered before the quick device's one: its mappings held up the others'");
        } finally {
            slow.disconnect().waitForCompletion(5_000);
            quick.disconnect().waitForCompletion(5_000);
        }
    }

    @Inject
    MqttAdapter mqttAdapter;

    private MqttAsyncClient mqtt5(String id) throws Exception {
        MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:" + mqttAdapter.port(), id + "-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setUserName(id + "@demo");
        o.setPassword(PASSWORD.getBytes(StandardCharsets.UTF_8));
        o.setAutomaticReconnect(false);
        client.connect(o).waitForCompletion(10_000);
        return client;
    }

    private static MqttMessage message(String json) {
        MqttMessage m = new MqttMessage(json.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        return m;
    }

    private static int postWithoutContentType(String deviceId, String body) throws Exception {
        String auth = java.util.Base64.getEncoder().encodeToString((deviceId + "@demo:" + PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(URI.create(RestAssured.baseURI + ":" + RestAssured.port
                + "/telemetry")).header("Authorization", "Basic " + auth)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        }
    }
}

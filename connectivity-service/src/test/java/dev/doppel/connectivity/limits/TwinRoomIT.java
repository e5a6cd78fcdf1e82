package dev.doppel.connectivity.limits;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.adapter.coap.CoapAdapter;
import dev.doppel.connectivity.adapter.mqtt.MqttAdapter;
import dev.doppel.connectivity.testing.Devices;
import dev.doppel.connectivity.testing.Mqtt5Devices;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.contracts.TwinRoom;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;

/**
 * A device whose report would grow its twin past its size limit is told so by the protocol's answer
 * (MQTT 5 PUBACK 0x97, HTTP 413 {@code twin-full}, CoAP 4.13), and the report goes nowhere; reports
 * that only change the values of keys the twin has still pass. The twins' room comes from
 * twin-service on {@code dt.twin-room}; here the test publishes it as twin-service would.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class TwinRoomIT {

    private static final String PASSWORD = "room-secret";
    private static final long WAIT_MS = Mqtt5Devices.WAIT_MS;

    @Inject
    MqttAdapter mqtt;

    @Inject
    CoapAdapter coap;

    @TestHTTPResource(value = "", management = true)
    URL management;

    /** Twin-service's notice: the twin has {@code room} bytes left and one key, telemetry's temperature. */
    private static void tellRoom(KafkaProbe kafka, String thingId, long room) {
        kafka.sendEvent(Topics.TWIN_ROOM, thingId, EventTypes.TWIN_ROOM, "/twin-service", new TwinRoom(
                UUID.randomUUID().toString(), thingId, room, List.of(), Map.of("telemetry", List.of("temperature")),
                Instant.now()));
    }

    /** A JSON object of {@code keys} new keys of about 50 bytes each, the first one named {@code first}. */
    private static String newKeys(String first, int keys) {
        StringBuilder b = new StringBuilder("{\"").append(first).append("\":\"").append("x".repeat(40)).append('"');
        for (int i = 1; i < keys; i++) {
            b.append(",\"").append(first).append('-').append(i).append("\":\"").append("x".repeat(40)).append('"');
        }
        return b.append('}').toString();
    }

    private static RequestSpecification device(String deviceId) {
        return given().auth().preemptive().basic(deviceId + "@demo", PASSWORD).contentType("application/json");
    }

    @Test
    void overHttpTheReportThatDoesNotFitIs413AndKeysAddedBitByBitMeetTheLimit() {
        Devices.withPassword("demo", "room-http", PASSWORD, true);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            tellRoom(kafka, "demo:room-http", 300);
            // Until the notice is read, the report goes on (twin-service would judge it).
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    device("room-http").body(newKeys("big", 10)).post("/telemetry").then().statusCode(413)
                            .contentType(containsString("application/problem+json"))
                            .body("type", containsString("twin-full"))
                            .body("detail", containsString("300")));
            // Values of the keys the twin has still change; new keys that fit pass and use the room up.
            device("room-http").body("{\"temperature\":22.5}").post("/telemetry").then().statusCode(202);
            device("room-http").body(newKeys("a", 2)).post("/telemetry").then().statusCode(202);
            device("room-http").body(newKeys("b", 2)).post("/telemetry").then().statusCode(202);
            device("room-http").body(newKeys("c", 3)).post("/telemetry").then().statusCode(413)
                    .body("type", containsString("twin-full"));
            // A key added a moment ago is one the twin has now: its value may change.
            device("room-http").body(newKeys("a", 2)).post("/telemetry").then().statusCode(202);
        }
    }

    @Test
    void overMqtt5ItIsPuback0x97AndNothingIsSentOn() throws Exception {
        Devices.withPassword("demo", "room-mqtt", PASSWORD, true);
        MqttAsyncClient client = Mqtt5Devices.connect(mqtt.port(), "room-mqtt@demo", PASSWORD, null);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            tellRoom(kafka, "demo:room-mqtt", 300);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                    .until(() -> publish(client, newKeys("big", 10)) == 0x97);
            try (KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
                assertEquals(0x97, publish(client, newKeys("hostile", 10)), "quota exceeded");
                assertTrue(client.isConnected(), "a refused QoS 1 message closed the MQTT 5 connection");
                // The positive control, on the same path: a value of a key the twin has.
                assertEquals(0x00, publish(client, "{\"temperature\":23.5}"));
                List<TelemetryReceived> seen = new ArrayList<>();
                ConsumerRecord<String, byte[]> control = KafkaProbe.await(telemetry, r -> {
                    if (!"demo:room-mqtt".equals(r.key())) {
                        return false;
                    }
                    TelemetryReceived t = KafkaProbe.read(r, TelemetryReceived.class);
                    seen.add(t);
                    return Double.valueOf(23.5).equals(t.features().get("telemetry").get("temperature"));
                }, Duration.ofSeconds(10));
                assertNotNull(control, "the control report did not arrive");
                assertTrue(seen.stream().noneMatch(t -> t.features().get("telemetry").containsKey("hostile")),
                        "the refused report was sent on: " + seen);
            }
        } finally {
            client.disconnect().waitForCompletion(WAIT_MS);
            client.close();
        }
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("doppel_mqtt_rejected_total{reason=\"twin-full\"}"), metrics);
    }

    @Test
    void overCoapItIs413() throws Exception {
        Devices.withPassword("demo", "room-coap", PASSWORD, true);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            tellRoom(kafka, "demo:room-coap", 200);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                    .until(() -> coapPut(newKeys("big", 6)).startsWith("4.13"));
            // The twin's own key still passes (an empty answer is 2.04 Changed).
            assertEquals("", coapPut("{\"temperature\":20}"));
        }
    }

    private static int publish(MqttAsyncClient client, String payload) throws MqttException {
        return Mqtt5Devices.publish(client, "telemetry", payload);
    }

    /** libcoap's client (Debian's libcoap3-bin): the response payload, or the error code and its text. */
    private String coapPut(String payload) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("coap-client-openssl", "-B", "15", "-m", "PUT", "-t", "application/json", "-e",
                    payload, "coap://127.0.0.1:" + coap.plainPort() + "/telemetry/demo/room-coap")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("coap-client-openssl not found: install Debian's libcoap3-bin", e);
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "coap-client did not finish");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }
}

package dev.doppel.connectivity.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.adapter.coap.CoapAdapter;
import dev.doppel.connectivity.adapter.mqtt.MqttAdapter;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.awaitility.Awaitility;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/**
 * Hono's gateways: a device connected once reports for the devices whose registration names it in
 * {@code via}, over MQTT ({@code telemetry/{tenant}/{device}}), HTTP ({@code PUT /telemetry/{tenant}/{device}})
 * and CoAP ({@code PUT /telemetry/{tenant}/{device}} over DTLS); for any other device it is refused.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class GatewayIT {

    private static final String PASSWORD = "gateway-secret";
    private static final String PSK = "gateway-psk-key-0001";

    @Inject
    MqttAdapter mqtt;

    @Inject
    CoapAdapter coap;

    private static RequestSpecification admin() {
        return given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json");
    }

    private static boolean registered;

    /** Once, inside a test: RestAssured points at the application only then. */
    private static synchronized void register() {
        if (registered) {
            return;
        }
        registered = true;
        admin().body("{}").put("/api/registry/devices/demo/gw-1").then().statusCode(lessThan(300));
        admin().body("[{\"type\":\"hashed-password\",\"auth-id\":\"gw-1\",\"secrets\":[{\"pwd-plain\":\"" + PASSWORD
                + "\"}]},{\"type\":\"psk\",\"auth-id\":\"gw-1\",\"secrets\":[{\"key\":\""
                + Base64.getEncoder().encodeToString(PSK.getBytes(StandardCharsets.UTF_8)) + "\"}]}]")
                .put("/api/registry/credentials/demo/gw-1").then().statusCode(204);
        admin().body("{\"via\":[\"gw-1\"]}").put("/api/registry/devices/demo/behind-gw").then().statusCode(lessThan(300));
        admin().body("{}").put("/api/registry/devices/demo/not-behind").then().statusCode(lessThan(300));
    }

    @Test
    void theRegistryKeepsViaAndRefusesNonsense() {
        register();
        admin().get("/api/registry/devices/demo/behind-gw").then().body("via", equalTo(java.util.List.of("gw-1")));
        admin().body("{\"via\":[\"self-gw\"]}").put("/api/registry/devices/demo/self-gw").then().statusCode(400);
    }

    @Test
    void overMqttAGatewayReportsForItsDevicesOnly() throws Exception {
        register();
        MqttClient gateway = new MqttClient("tcp://127.0.0.1:" + mqtt.port(), "gw-1-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName("gw-1@demo");
        o.setPassword(PASSWORD.toCharArray());
        gateway.connect(o);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            gateway.publish("telemetry/demo/behind-gw", "{\"level\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
            gateway.publish("telemetry//behind-gw", "{\"level\":2}".getBytes(StandardCharsets.UTF_8), 1, false);
            ConsumerRecord<String, byte[]> second = KafkaProbe.await(telemetry, r -> "demo:behind-gw".equals(r.key())
                    && Integer.valueOf(2).equals(KafkaProbe.read(r, TelemetryReceived.class).features()
                            .get("telemetry").get("level")), Duration.ofSeconds(10));
            assertNotNull(second, "the gateway's report for its device did not arrive");
            assertEquals("mqtt", KafkaProbe.read(second, TelemetryReceived.class).transport());
        }
        // Not its device: the connection is closed, as for any message a device may not send.
        gateway.publish("telemetry/demo/not-behind", "{\"level\":3}".getBytes(StandardCharsets.UTF_8), 0, false);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !gateway.isConnected());
        gateway.close();
    }

    @Test
    void overHttpAGatewayPutsForItsDevicesOnly() {
        register();
        RequestSpecification gw = given().auth().preemptive().basic("gw-1@demo", PASSWORD).contentType("application/json");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> events = kafka.subscribe(Topics.DEVICE_EVENTS)) {
            gw.body("{\"door\":\"open\"}").put("/event/demo/behind-gw").then().statusCode(202);
            assertNotNull(KafkaProbe.await(events, r -> "demo:behind-gw".equals(r.key()), Duration.ofSeconds(10)));
        }
        given().auth().preemptive().basic("gw-1@demo", PASSWORD).contentType("application/json").body("{}")
                .put("/telemetry/demo/not-behind").then().statusCode(403).contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/not-a-gateway"));
        given().auth().preemptive().basic("gw-1@demo", "wrong-password").contentType("application/json").body("{}")
                .put("/telemetry/demo/behind-gw").then().statusCode(401);
    }

    @Test
    void overCoapAGatewayPutsForItsDevicesOnly() throws Exception {
        register();
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            assertEquals("", coapClient("-m", "PUT", "-t", "application/json", "-e", "{\"level\":7}",
                    "coaps://127.0.0.1:" + coap.securePort() + "/telemetry/demo/behind-gw"));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:behind-gw".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r);
            assertEquals(Map.of("level", 7), KafkaProbe.read(r, TelemetryReceived.class).features().get("telemetry"));
        }
        String refused = coapClient("-m", "PUT", "-t", "application/json", "-e", "{}",
                "coaps://127.0.0.1:" + coap.securePort() + "/telemetry/demo/not-behind");
        assertTrue(refused.startsWith("4.03"), refused);
        assertFalse(refused.isEmpty());
    }

    private static String coapClient(String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("coap-client-openssl", "-B", "15",
                "-u", "gw-1@demo", "-k", PSK));
        command.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "coap-client did not finish");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }
}

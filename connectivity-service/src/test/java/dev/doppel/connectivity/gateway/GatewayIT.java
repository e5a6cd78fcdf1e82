package dev.doppel.connectivity.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.adapter.coap.CoapAdapter;
import dev.doppel.connectivity.adapter.mqtt.MqttAdapter;
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
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.awaitility.Awaitility;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.IMqttToken;
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
        admin().body("{\"via\":[\"gw-1\"]}").put("/api/registry/devices/demo/valve-gw").then().statusCode(lessThan(300));
        admin().body("{\"via\":[\"gw-1\"],\"enabled\":false}").put("/api/registry/devices/demo/off-gw").then()
                .statusCode(lessThan(300));
        admin().body("{}").put("/api/registry/devices/demo/gw-3").then().statusCode(lessThan(300));
        admin().body("[{\"type\":\"hashed-password\",\"auth-id\":\"gw-3\",\"secrets\":[{\"pwd-plain\":\"" + PASSWORD
                + "\"}]}]").put("/api/registry/credentials/demo/gw-3").then().statusCode(204);
        admin().body("{\"via\":[\"gw-1\",\"gw-3\"]}").put("/api/registry/devices/demo/dual-gw").then()
                .statusCode(lessThan(300));
    }

    private MqttClient connectGateway(String gatewayId) throws Exception {
        MqttClient gateway = new MqttClient("tcp://127.0.0.1:" + mqtt.port(), gatewayId + "-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName(gatewayId + "@demo");
        o.setPassword(PASSWORD.toCharArray());
        gateway.connect(o);
        return gateway;
    }

    private static void sendCommand(KafkaProbe kafka, String thingId, String id) {
        kafka.sendEvent(Topics.COMMANDS, thingId, EventTypes.COMMAND_REQUESTED, "/test",
                new CommandRequested(id, thingId, "ping", "application/json", "{}".getBytes(StandardCharsets.UTF_8),
                        true, Instant.now(), Instant.now().plusSeconds(30), null));
    }

    @Test
    void aDeviceBehindTwoGatewaysStaysReachableWhileOneOfThemIsThere() throws Exception {
        register();
        MqttClient first = connectGateway("gw-1");
        MqttClient second = connectGateway("gw-3");
        BlockingQueue<String> atFirst = new LinkedBlockingQueue<>();
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS)) {
            first.subscribe("command//+/req/#", 1, (topic, msg) -> atFirst.add(topic));
            second.subscribe("command//+/req/#", 1, (topic, msg) -> {
            });
            second.disconnect();
            second.close();
            assertEquals(null, KafkaProbe.await(connections, r -> "demo:dual-gw".equals(r.key())
                    && KafkaProbe.read(r, DeviceConnectionChanged.class).ttd() == 0, Duration.ofSeconds(3)),
                    "the device was announced gone while another gateway still holds it");
            String id = UUID.randomUUID().toString();
            sendCommand(kafka, "demo:dual-gw", id);
            String topic = atFirst.poll(10, TimeUnit.SECONDS);
            assertEquals("command//dual-gw/req/" + id + "/ping", topic, "the remaining gateway did not get the command");
            first.disconnect();
            assertNotNull(KafkaProbe.await(connections, r -> "demo:dual-gw".equals(r.key())
                    && KafkaProbe.read(r, DeviceConnectionChanged.class).ttd() == 0, Duration.ofSeconds(10)),
                    "gone with its last gateway");
        } finally {
            first.close();
        }
    }

    @Test
    void aGatewayTakenOffADevicesViaGetsNoMoreOfItsCommands() throws Exception {
        register();
        admin().body("{\"via\":[\"gw-1\"]}").put("/api/registry/devices/demo/revoked-gw").then()
                .statusCode(lessThan(300));
        MqttClient gateway = connectGateway("gw-1");
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS)) {
            gateway.subscribe("command//+/req/#", 1, (topic, msg) -> received.add(topic));
            assertNotNull(KafkaProbe.await(connections, r -> "demo:revoked-gw".equals(r.key())
                    && KafkaProbe.read(r, DeviceConnectionChanged.class).ttd() == -1, Duration.ofSeconds(10)));
            admin().body("{}").put("/api/registry/devices/demo/revoked-gw").then().statusCode(204);
            sendCommand(kafka, "demo:revoked-gw", UUID.randomUUID().toString());
            assertNull(received.poll(3, TimeUnit.SECONDS), "the former gateway still got the device's command");
            assertNotNull(KafkaProbe.await(connections, r -> "demo:revoked-gw".equals(r.key())
                    && KafkaProbe.read(r, DeviceConnectionChanged.class).ttd() == 0, Duration.ofSeconds(10)),
                    "the device is not reachable through its former gateway any more");

            // Hono's form naming the gateway's own id is its own subscription, and its commands name it.
            gateway.subscribe("command//gw-1/req/#", 1, (topic, msg) -> received.add(topic));
            String own = UUID.randomUUID().toString();
            sendCommand(kafka, "demo:gw-1", own);
            assertEquals("command//gw-1/req/" + own + "/ping", received.poll(10, TimeUnit.SECONDS));
        } finally {
            gateway.disconnect();
            gateway.close();
        }
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
    void overMqttAGatewayTakesAndAnswersTheCommandsOfItsDevices() throws Exception {
        register();
        MqttClient gateway = new MqttClient("tcp://127.0.0.1:" + mqtt.port(), "gw-1-cmd-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName("gw-1@demo");
        o.setPassword(PASSWORD.toCharArray());
        gateway.connect(o);
        BlockingQueue<String[]> received = new LinkedBlockingQueue<>();
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS);
                KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
            // Hono's form for the commands of all devices that name the gateway in their via.
            IMqttToken all = gateway.subscribeWithResponse(new String[] {"command//+/req/#"}, new int[] {1},
                    new org.eclipse.paho.client.mqttv3.IMqttMessageListener[] {(topic, msg) -> received.add(
                            new String[] {topic, new String(msg.getPayload(), StandardCharsets.UTF_8)})});
            assertEquals(1, all.getGrantedQos()[0]);
            // Its enabled devices are connected now, for command-service and the twins.
            java.util.Set<String> online = new java.util.TreeSet<>();
            KafkaProbe.await(connections, r -> {
                if (KafkaProbe.read(r, DeviceConnectionChanged.class).ttd() == -1) {
                    online.add(r.key());
                }
                return online.containsAll(java.util.List.of("demo:behind-gw", "demo:valve-gw"));
            }, Duration.ofSeconds(10));
            assertTrue(online.containsAll(java.util.List.of("demo:behind-gw", "demo:valve-gw")),
                    "not announced connected through their gateway: " + online);
            assertEquals(null, KafkaProbe.await(connections, r -> "demo:off-gw".equals(r.key())
                    || "demo:not-behind".equals(r.key()), Duration.ofSeconds(1)), "only the gateway's enabled devices");

            String id = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, "demo:valve-gw", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, "demo:valve-gw", "open", "application/json",
                            "{\"percent\":30}".getBytes(StandardCharsets.UTF_8), true, Instant.now(),
                            Instant.now().plusSeconds(30), null));
            String[] command = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(command, "the gateway got no command for its device");
            assertEquals("command//valve-gw/req/" + id + "/open", command[0]);
            assertEquals("{\"percent\":30}", command[1]);
            assertNotNull(awaitStatus(statuses, id, CommandStatus.DELIVERED), "the gateway's PUBACK is the delivery");

            gateway.publish("command//valve-gw/res/" + id + "/200", "{\"opened\":30}".getBytes(StandardCharsets.UTF_8),
                    1, false);
            CommandStatusChanged done = awaitStatus(statuses, id, CommandStatus.SUCCEEDED);
            assertNotNull(done, "the gateway's answer for its device did not settle the command");
            assertEquals("demo:valve-gw", done.thingId());
            assertEquals(200, done.statusCode());

            // A device that does not name the gateway: its subscription is refused (0x80), the connection stays.
            IMqttToken foreign = gateway.subscribeWithResponse(new String[] {"command//not-behind/req/#"}, new int[] {1},
                    new org.eclipse.paho.client.mqttv3.IMqttMessageListener[] {(topic, msg) -> received.add(
                            new String[] {topic, "?"})});
            assertEquals(0x80, foreign.getGrantedQos()[0]);
            assertTrue(gateway.isConnected());

            // Gone from its command subscription, its devices are disconnected.
            gateway.unsubscribe("command//+/req/#");
            assertNotNull(KafkaProbe.await(connections, r -> "demo:valve-gw".equals(r.key())
                    && KafkaProbe.read(r, DeviceConnectionChanged.class).ttd() == 0, Duration.ofSeconds(10)),
                    "unsubscribing did not disconnect the gateway's devices");

            // One device by name; then an answer for a device that is not its own closes the connection.
            gateway.subscribe("command//behind-gw/req/#", 1);
            assertNotNull(KafkaProbe.await(connections, r -> "demo:behind-gw".equals(r.key())
                    && KafkaProbe.read(r, DeviceConnectionChanged.class).ttd() == -1, Duration.ofSeconds(10)));
            try {
                gateway.publish("command//not-behind/res/" + UUID.randomUUID() + "/200", new byte[0], 1, false);
            } catch (org.eclipse.paho.client.mqttv3.MqttException expected) {
                // refused: the connection closes while Paho still waits for the PUBACK
            }
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !gateway.isConnected());
        gateway.close();
    }

    private static CommandStatusChanged awaitStatus(KafkaConsumer<String, byte[]> statuses, String id,
            CommandStatus status) {
        ConsumerRecord<String, byte[]> r = KafkaProbe.await(statuses, x -> {
            CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
            return id.equals(s.commandId()) && s.status() == status;
        }, Duration.ofSeconds(10));
        return r == null ? null : KafkaProbe.read(r, CommandStatusChanged.class);
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

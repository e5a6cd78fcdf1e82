package dev.doppel.connectivity.adapter.mqtt;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The MQTT adapter driven by a real MQTT client library (Eclipse Paho) as the device, against a real
 * Kafka broker and the MongoDB stand-in.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class MqttAdapterIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static final String PASSWORD = "right-password";
    private static KafkaProbe kafka;

    @Inject
    MqttAdapter adapter;

    @Inject
    dev.doppel.connectivity.registry.SharedLoginFailures sharedFailures;

    @Inject
    io.quarkus.mongodb.reactive.ReactiveMongoClient mongo;

    @Inject
    dev.doppel.connectivity.config.RegistryConfig registryConfig;

    @BeforeAll
    static void connectKafka() {
        kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
    }

    @AfterAll
    static void closeKafka() {
        kafka.close();
    }

    private static void register(String deviceId, boolean enabled) {
        register("demo", deviceId, enabled);
    }

    private static void register(String tenant, String deviceId, boolean enabled) {
        asAdmin().contentType("application/json").body("{\"enabled\":" + enabled + "}")
                .put("/api/registry/devices/" + tenant + "/" + deviceId).then().statusCode(org.hamcrest.Matchers.oneOf(201, 204));
        asAdmin().contentType("application/json")
                .body("[{\"type\":\"hashed-password\",\"auth-id\":\"" + deviceId + "\",\"secrets\":[{\"pwd-plain\":\""
                        + PASSWORD + "\"}]}]")
                .put("/api/registry/credentials/" + tenant + "/" + deviceId).then().statusCode(204);
    }

    private MqttClient connect(String deviceId, String password) throws MqttException {
        return connectAs(deviceId + "@demo", password);
    }

    private MqttClient connectAs(String username, String password) throws MqttException {
        return connectFrom(null, username, password);
    }

    /** Connects from a source address of its own ({@code 127.0.0.2}: another machine, as the server sees it). */
    private MqttClient connectFrom(String source, String username, String password) throws MqttException {
        String deviceId = username.substring(0, Math.min(40, username.indexOf('@')));
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + adapter.port(), deviceId + "-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        if (source != null) {
            o.setSocketFactory(dev.doppel.connectivity.testing.BoundSockets.from(source));
        }
        o.setUserName(username);
        o.setPassword(password.toCharArray());
        o.setConnectionTimeout(10);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        client.setTimeToWait(10_000);
        client.connect(o);
        return client;
    }

    @Test
    void someoneGuessingFromElsewhereCannotLockTheDeviceOutOfItsOwnAddress() throws Exception {
        register("d-victim", true);
        for (int i = 0; i < 5; i++) {
            MqttException wrong = assertThrows(MqttException.class,
                    () -> connectFrom("127.0.0.2", "d-victim@demo", "guess-" + UUID.randomUUID()));
            assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, wrong.getReasonCode());
        }
        // The guesser is blocked now, even with the right password ...
        MqttException blocked = assertThrows(MqttException.class,
                () -> connectFrom("127.0.0.2", "d-victim@demo", PASSWORD));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, blocked.getReasonCode());
        // ... and the device, connecting from its own address, is not.
        connectFrom("127.0.0.1", "d-victim@demo", PASSWORD).disconnect();
    }

    @Test
    void aUserNameThatCannotBeALoginIsRefusedBeforeAnyLookup() throws Exception {
        register("d-named", true);
        connect("d-named", PASSWORD).disconnect();
        double before = connects("bad-username");
        String huge = "x".repeat(30_000) + "@demo";
        MqttException refused = assertThrows(MqttException.class, () -> connectAs(huge, PASSWORD));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refused.getReasonCode());
        assertThrows(MqttException.class, () -> connectAs("d-named@not a tenant!", PASSWORD));
        // Counted as a malformed user name, not as a wrong password for a looked-up login.
        assertEquals(before + 2, connects("bad-username"));
    }

    private double connects(String outcome) {
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        String prefix = "doppel_mqtt_connects_total{outcome=\"" + outcome + "\"} ";
        return metrics.lines().filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(
                l.substring(prefix.length()).trim())).sum();
    }

    @Test
    void wrongPasswordUnknownAndDisabledDevicesAreRefusedAtConnect() {
        register("d-auth", true);
        register("d-off", false);
        MqttException wrong = assertThrows(MqttException.class, () -> connect("d-auth", "wrong-password"));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, wrong.getReasonCode());
        MqttException unknown = assertThrows(MqttException.class, () -> connect("nobody", PASSWORD));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, unknown.getReasonCode());
        MqttException disabled = assertThrows(MqttException.class, () -> connect("d-off", PASSWORD));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, disabled.getReasonCode());
    }

    @Test
    void aDisabledTenantsDevicesAreRefusedUntilItIsEnabledAgain() throws Exception {
        register("frozen", "d-frozen", true);
        connectAs("d-frozen@frozen", PASSWORD).disconnect();
        asAdmin().contentType("application/json").body("{\"enabled\":false}").put("/api/registry/tenants/frozen")
                .then().statusCode(204);
        MqttException refused = assertThrows(MqttException.class, () -> connectAs("d-frozen@frozen", PASSWORD));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, refused.getReasonCode());
        asAdmin().contentType("application/json").body("{\"enabled\":true}").put("/api/registry/tenants/frozen")
                .then().statusCode(204);
        connectAs("d-frozen@frozen", PASSWORD).disconnect();
    }

    @Test
    void repeatedWrongPasswordsLockTheLoginForAWhileEvenForTheRightPassword() throws Exception {
        register("d-brute", true);
        for (int i = 0; i < 5; i++) {
            MqttException wrong = assertThrows(MqttException.class, () -> connect("d-brute", "guess-" + UUID.randomUUID()));
            assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, wrong.getReasonCode());
        }
        MqttException blocked = assertThrows(MqttException.class, () -> connect("d-brute", PASSWORD));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, blocked.getReasonCode());
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("doppel_mqtt_connects_total{outcome=\"throttled\"}"), "throttling not counted");
        // The block lasts one second after the fifth failure; then the right password works and clears it.
        Thread.sleep(1500);
        connect("d-brute", PASSWORD).disconnect();
    }

    @Test
    void wrongPasswordsOnAnotherReplicaBlockTheLoginHereToo() throws Exception {
        register("d-spread", true);
        String key = dev.doppel.connectivity.registry.LoginThrottle.key("demo/d-spread", "127.0.0.1");
        // Five wrong passwords from 127.0.0.1 on another replica: it records them where every replica reads.
        for (int i = 0; i < 5; i++) {
            sharedFailures.failed(key).await().atMost(Duration.ofSeconds(10));
        }
        // Here, where this login has failed nothing, the right password from that address is refused ...
        MqttException blocked = assertThrows(MqttException.class, () -> connect("d-spread", PASSWORD));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, blocked.getReasonCode());
        // ... while the device from its own address logs in (the block is the guesser's address only).
        connectFrom("127.0.5.2", "d-spread@demo", PASSWORD).disconnect();

        // And a wrong password here counts on the other replicas: recorded in the shared record.
        assertThrows(MqttException.class, () -> connectFrom("127.0.5.3", "d-spread@demo", "guess-" + UUID.randomUUID()));
        org.bson.Document recorded = mongo.getDatabase(registryConfig.database()).getCollection("login_failures")
                .find(new org.bson.Document("_id", dev.doppel.connectivity.registry.LoginThrottle.key("demo/d-spread",
                        "127.0.5.3"))).collect().first().await().atMost(Duration.ofSeconds(10));
        assertNotNull(recorded, "a failure here is not shared with the other replicas");
        assertEquals(1, recorded.getInteger("failures"));
    }

    @Test
    void qos1TelemetryIsOnKafkaAsACloudEventWhenThePubackArrives() throws Exception {
        register("d-tel", true);
        try (KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            MqttClient device = connect("d-tel", PASSWORD);
            device.publish("telemetry/?feature=climate", "{\"temperature\":21.5}".getBytes(StandardCharsets.UTF_8),
                    1, false); // returns once the PUBACK is in
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:d-tel".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r, "acknowledged telemetry is not on Kafka");
            assertEquals(EventTypes.TELEMETRY_RECEIVED, KafkaProbe.header(r, "ce_type"));
            assertEquals("/connectivity/mqtt", KafkaProbe.header(r, "ce_source"));
            assertEquals("demo:d-tel", KafkaProbe.header(r, "ce_subject"));
            TelemetryReceived event = KafkaProbe.read(r, TelemetryReceived.class);
            assertEquals(Map.of("climate", Map.of("temperature", 21.5)), event.features());
            assertTrue(Duration.between(event.sourceTime(), Instant.now()).abs().toSeconds() < 30);
            device.disconnect();
        }
    }

    @Test
    void badMessagesCloseTheConnectionAreCountedAndNothingIsForwarded() throws Exception {
        register("d-bad", true);
        String[][] cases = {
                {"telemetry", "{\"temperature\":"},                 // malformed JSON
                {"telemetry", "[1,2,3]"},                           // not an object
                {"telemetry", "{\"$where\":1}"},                    // key MongoDB would take as an operator
                {"nonsense/topic", "{\"a\":1}"},                    // unknown topic
                {"telemetry/demo/someone-else", "{\"a\":1}"},       // another device, not behind this one
                {"telemetry/other-tenant/d-bad", "{\"a\":1}"},     // another tenant
                {"telemetry", "{\"x\":\"" + "a".repeat(64 * 1024) + "\"}"}, // over the 64 KiB limit
        };
        try (KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            for (String[] c : cases) {
                MqttClient device = connect("d-bad", PASSWORD);
                assertThrows(MqttException.class,
                        () -> device.publish(c[0], c[1].getBytes(StandardCharsets.UTF_8), 1, false), c[0]);
                waitUntil(() -> !device.isConnected());
                assertFalse(device.isConnected(), "connection stays open after " + c[0] + " " + c[1].length());
                device.close(true);
            }
            MqttClient device = connect("d-bad", PASSWORD);
            device.publish("telemetry", "{\"ok\":true}".getBytes(StandardCharsets.UTF_8), 1, false);
            ConsumerRecord<String, byte[]> first = KafkaProbe.await(telemetry,
                    x -> x.key().startsWith("demo:d-bad") || x.key().startsWith("demo:someone"), Duration.ofSeconds(10));
            assertNotNull(first);
            assertEquals(Map.of("telemetry", Map.of("ok", true)), KafkaProbe.read(first, TelemetryReceived.class).features(),
                    "a rejected message was forwarded");
            device.disconnect();
        }
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        for (String reason : new String[] {"malformed-json", "not-an-object", "invalid-key", "unknown-topic",
                "not-authorized", "not-a-gateway", "payload-too-large"}) {
            assertTrue(metrics.contains("doppel_mqtt_rejected_total{reason=\"" + reason + "\"}"), reason);
        }
    }

    @Test
    void commandReachesTheSubscribedDeviceAndItsAnswerGoesBackOnKafka() throws Exception {
        register("d-cmd", true);
        try (KafkaConsumer<String, byte[]> status = kafka.subscribe(Topics.COMMAND_STATUS);
                KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS)) {
            MqttClient device = connect("d-cmd", PASSWORD);
            BlockingQueue<String[]> received = new LinkedBlockingQueue<>();
            device.subscribe("command///req/#", 1, (topic, msg) -> received.add(
                    new String[] {topic, new String(msg.getPayload(), StandardCharsets.UTF_8)}));
            ConsumerRecord<String, byte[]> online = KafkaProbe.await(connections, x -> "demo:d-cmd".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(online, "subscribing announced no connection");
            assertEquals(-1, KafkaProbe.read(online, DeviceConnectionChanged.class).ttd());

            String id = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, "demo:d-cmd", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, "demo:d-cmd", "switch", "application/json",
                            "{\"on\":true}".getBytes(StandardCharsets.UTF_8), true, Instant.now(),
                            Instant.now().plusSeconds(30), null));
            String[] cmd = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(cmd, "device got no command");
            assertEquals("command///req/" + id + "/switch", cmd[0]);
            assertEquals("{\"on\":true}", cmd[1]);

            device.publish("command///res/" + id + "/200", "{\"done\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
            ConsumerRecord<String, byte[]> answer = KafkaProbe.await(status,
                    x -> KafkaProbe.read(x, CommandStatusChanged.class).status() == CommandStatus.SUCCEEDED,
                    Duration.ofSeconds(10));
            assertNotNull(answer, "answer not forwarded");
            CommandStatusChanged s = KafkaProbe.read(answer, CommandStatusChanged.class);
            assertEquals(id, s.commandId());
            assertEquals(200, s.statusCode());
            assertArrayEquals("{\"done\":1}".getBytes(StandardCharsets.UTF_8), s.payload());

            // A second answer to the same request, or to a made-up one, is dropped.
            device.publish("command///res/" + id + "/500", new byte[0], 1, false);
            assertEquals(null, KafkaProbe.await(status,
                    x -> KafkaProbe.read(x, CommandStatusChanged.class).status() == CommandStatus.FAILED,
                    Duration.ofSeconds(2)));

            device.disconnect();
            ConsumerRecord<String, byte[]> offline = KafkaProbe.await(connections,
                    x -> "demo:d-cmd".equals(x.key()) && KafkaProbe.read(x, DeviceConnectionChanged.class).ttd() == 0,
                    Duration.ofSeconds(10));
            assertNotNull(offline, "disconnect announced no ttd=0");
        }
    }

    @Test
    void registeringAndRemovingADeviceIsAnnouncedOnDtDevices() {
        try (KafkaConsumer<String, byte[]> devices = kafka.subscribe(Topics.DEVICES)) {
            register("d-life", true);
            ConsumerRecord<String, byte[]> created = KafkaProbe.await(devices, x -> "demo:d-life".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(created, "registration not announced");
            assertEquals(EventTypes.DEVICE_LIFECYCLE_CHANGED, KafkaProbe.header(created, "ce_type"));
            assertTrue(KafkaProbe.read(created, dev.doppel.contracts.DeviceLifecycleChanged.class).registered());
            // Registering an existing device again announces it again (a lost registration comes back).
            register("d-life", true);
            ConsumerRecord<String, byte[]> again = KafkaProbe.await(devices, x -> "demo:d-life".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(again, "a PUT of an existing device was not announced");
            assertTrue(KafkaProbe.read(again, dev.doppel.contracts.DeviceLifecycleChanged.class).registered());
            asAdmin().delete("/api/registry/devices/demo/d-life").then().statusCode(204);
            ConsumerRecord<String, byte[]> removed = KafkaProbe.await(devices, x -> "demo:d-life".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(removed, "removal not announced");
            assertFalse(KafkaProbe.read(removed, dev.doppel.contracts.DeviceLifecycleChanged.class).registered());
        }
    }

    @Test
    void commandForADeviceThatIsNotConnectedFailsAsNotConnected() {
        try (KafkaConsumer<String, byte[]> status = kafka.subscribe(Topics.COMMAND_STATUS)) {
            String id = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, "demo:offline", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, "demo:offline", "switch", "text/plain", new byte[0], true, Instant.now(),
                            Instant.now().plusSeconds(30), null));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(status,
                    x -> id.equals(KafkaProbe.read(x, CommandStatusChanged.class).commandId()), Duration.ofSeconds(10));
            assertNotNull(r);
            CommandStatusChanged s = KafkaProbe.read(r, CommandStatusChanged.class);
            assertEquals(CommandStatus.FAILED, s.status());
            assertEquals(CommandStatusChanged.DEVICE_NOT_CONNECTED, s.reason());
        }
    }

    @Test
    void registryNeverReturnsSecretsAndRejectsBadInputAsProblems() {
        register("d-reg", true);
        asAdmin().get("/api/registry/credentials/demo/d-reg").then().statusCode(200)
                .body("[0].auth-id", equalTo("d-reg"))
                .body(not(containsString(PASSWORD)))
                .body(not(containsString("salt"))).body(not(containsString("\"hash\"")));
        asAdmin().contentType("application/json").body("[{\"type\":\"hashed-password\",\"auth-id\":\"x\"}]")
                .put("/api/registry/credentials/demo/d-reg").then().statusCode(400)
                .contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/invalid-credentials"));
        // A PUT replaces the device's credentials; an auth-id of another device is not taken over.
        register("d-reg-2", true);
        String psk = java.util.Base64.getEncoder().encodeToString("a-psk-of-twenty-bytes".getBytes());
        asAdmin().contentType("application/json").body("[{\"type\":\"psk\",\"auth-id\":\"d-reg\",\"secrets\":[{\"key\":\""
                + psk + "\"}]}]").put("/api/registry/credentials/demo/d-reg-2").then().statusCode(204);
        asAdmin().contentType("application/json").body("[{\"type\":\"hashed-password\",\"auth-id\":\"d-reg\","
                + "\"secrets\":[{\"pwd-plain\":\"some-password\"}]}]").put("/api/registry/credentials/demo/d-reg-2")
                .then().statusCode(409).contentType("application/problem+json");
        asAdmin().get("/api/registry/credentials/demo/d-reg-2").then().statusCode(200)
                .body("size()", equalTo(1)).body("[0].type", equalTo("psk")).body(not(containsString(psk)));
        asAdmin().contentType("application/json").body("[{\"type\":\"psk\",\"auth-id\":\"k\",\"secrets\":[{\"key\":\"c2hvcnQ=\"}]},"
                + "{\"type\":\"x\",\"auth-id\":\"y\",\"secrets\":[{}]}]").put("/api/registry/credentials/demo/d-reg-2")
                .then().statusCode(400).body("detail", containsString("credential 0: key"))
                .body("detail", containsString("credential 1: type"));
        asAdmin().get("/api/registry/devices/demo/missing").then().statusCode(404)
                .contentType("application/problem+json");
        asAdmin().contentType("application/json").body("{}").put("/api/registry/devices/demo/bad%2Fid").then()
                .statusCode(400).contentType("application/problem+json");
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 100 && !condition.getAsBoolean(); i++) {
            Thread.sleep(50);
        }
    }

    /** Requests as the realm's admin (a real Keycloak token); access rules have their own tests. */
    private static io.restassured.specification.RequestSpecification asAdmin() {
        return given().auth().oauth2(RealInfrastructure.token("admin"));
    }
}

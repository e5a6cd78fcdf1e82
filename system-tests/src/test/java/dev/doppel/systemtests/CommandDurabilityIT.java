package dev.doppel.systemtests;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.anEmptyMap;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Provisioner;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Commands that must survive offline devices and crashed services, with a real MQTT device (Paho) and
 * the services as separate processes that are really killed (SIGKILL) and started again.
 */
class CommandDurabilityIT {

    private static final String PASSWORD = "durable-secret";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static LocalSystem system;
    private static String olivia;

    @BeforeAll
    static void startSystem() throws Exception {
        system = new LocalSystem(Files.createTempDirectory("doppel-durable-"), LocalSystem.Layout.freePorts());
        system.startInfrastructure(null).startServices(LocalSystem.SERVICES, Map.of());
        Provisioner provisioner = new Provisioner(system.service("connectivity-service").baseUrl(),
                system.tokens().password("admin", "admin"));
        for (String d : List.of("lamp-1", "lamp-2", "lamp-3", "lamp-4", "meter-http")) {
            provisioner.device("demo", d, PASSWORD);
        }
        olivia = system.tokens().password("olivia", "olivia");
    }

    @AfterAll
    static void stopSystem() {
        if (system != null) {
            system.close();
        }
    }

    /** A device that records every command it receives, answers 200 to those that want an answer. */
    private static final class Device implements AutoCloseable {
        final MqttClient client;
        final List<String> received = new CopyOnWriteArrayList<>();
        final boolean answers;

        Device(String deviceId, boolean answers) throws MqttException {
            this.answers = answers;
            client = PahoDevices.connect(system.mqttPort(), deviceId, "demo", PASSWORD);
            client.subscribe("command///req/#", 1, (topic, msg) -> {
                // command///req/{req-id}/{subject}; one-way commands have an empty req-id
                String[] parts = topic.split("/", -1);
                String requestId = parts[4];
                String subject = parts[5];
                String body = new String(msg.getPayload(), StandardCharsets.UTF_8);
                received.add(subject + "|" + requestId + "|" + body);
                if (subject.equals("dt.desired")) {
                    Thread.ofVirtual().start(() -> applyDesired(body));
                } else if (this.answers && !requestId.isEmpty()) {
                    Thread.ofVirtual().start(() -> publish("command///res/" + requestId + "/200", "\"ok\""));
                }
            });
        }

        /** Does what the desired state says and reports it, as a well-behaved device would. */
        @SuppressWarnings("unchecked")
        private void applyDesired(String body) {
            try {
                Map<String, Object> desired = JSON.readValue(body, Map.class);
                Map<String, Object> features = (Map<String, Object>) desired.get("features");
                Object telemetry = features.get("telemetry");
                if (telemetry != null) {
                    publish("telemetry", JSON.writeValueAsString(telemetry));
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private void publish(String topic, String payload) {
            try {
                client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
            } catch (MqttException e) {
                throw new IllegalStateException(e);
            }
        }

        List<String> subjects() {
            return received.stream().map(r -> r.split("\\|", 3)[0]).toList();
        }

        List<String> ids() {
            return received.stream().map(r -> r.split("\\|", 3)[1]).toList();
        }

        @Override
        public void close() throws MqttException {
            if (client.isConnected()) {
                client.disconnect();
            }
            client.close();
        }
    }

    private static RequestSpecification api() {
        return given().auth().oauth2(olivia).contentType("application/json");
    }

    private static String commands() {
        return system.service("command-service").baseUrl() + "/api/commands";
    }

    private static String send(String device, String subject, String ttl, String timeout) {
        return api().body("""
                {"thingId":"demo:%s","subject":"%s","payload":"%s","ttl":"%s","timeout":"%s"}"""
                .formatted(device, subject, subject, ttl, timeout))
                .post(commands()).then().statusCode(202).extract().path("id");
    }

    private static void awaitStatus(String id, String status, Duration within) {
        await().atMost(within).untilAsserted(() -> api().get(commands() + "/" + id).then()
                .statusCode(200).body("status", equalTo(status)));
    }

    @Test
    void commandsForAnOfflineDeviceArriveInOrderWhenItConnects() throws Exception {
        List<String> ids = List.of(send("lamp-1", "one", "5m", "20s"), send("lamp-1", "two", "5m", "20s"),
                send("lamp-1", "three", "5m", "20s"));
        for (String id : ids) {
            api().get(commands() + "/" + id).then().body("status", equalTo("QUEUED"));
        }
        try (Device lamp = new Device("lamp-1", true)) {
            for (String id : ids) {
                awaitStatus(id, "SUCCEEDED", Duration.ofSeconds(30));
            }
            assertEquals(List.of("one", "two", "three"), lamp.subjects());
            api().get(commands() + "/" + ids.get(0)).then()
                    .body("history.status", equalTo(List.of("QUEUED", "SENT", "DELIVERED", "SUCCEEDED")));
        }
    }

    @Test
    void killingCommandServiceLosesNoQueuedCommandAndNoTimer() throws Exception {
        String waiting = send("lamp-2", "after-crash", "5m", "20s");
        String brief = send("lamp-2", "brief", "3s", "20s");
        system.restartService("command-service", true);
        // The timer of the brief one lived in MongoDB: it expires although its process died.
        awaitStatus(brief, "EXPIRED", Duration.ofSeconds(30));
        try (Device lamp = new Device("lamp-2", true)) {
            awaitStatus(waiting, "SUCCEEDED", Duration.ofSeconds(30));
            assertEquals(List.of("after-crash"), lamp.subjects());
        }
    }

    @Test
    void killingConnectivityLeavesNoCommandStuckAndNoneDeliveredTwice() throws Exception {
        String unanswered;
        String acknowledged;
        try (Device mute = new Device("lamp-3", false)) {
            acknowledged = send("lamp-3", "first", "5m", "5s");
            awaitStatus(acknowledged, "DELIVERED", Duration.ofSeconds(30));
            unanswered = acknowledged;
            system.restartService("connectivity-service", true);
            // The device acknowledged it and never answered: it times out, from MongoDB's timer.
            awaitStatus(unanswered, "TIMED_OUT", Duration.ofSeconds(30));
            // Sent while connectivity was away from this device: it waits and arrives on reconnect.
        }
        String later = send("lamp-3", "second", "5m", "20s");
        try (Device lamp = new Device("lamp-3", true)) {
            awaitStatus(later, "SUCCEEDED", Duration.ofSeconds(30));
            Thread.sleep(1000);
            assertEquals(List.of("second"), lamp.subjects(), "a command came to the device twice");
        }
    }

    @Test
    void anHttpDeviceThatPollsWithHonoTtdGetsItsQueuedCommandAndAnswersIt() throws Exception {
        String id = send("meter-http", "read-now", "5m", "20s");
        String connectivity = system.service("connectivity-service").baseUrl();
        // Hono's HTTP adapter: a request with hono-ttd waits for a command; the queued one comes as the answer.
        var poll = given().auth().preemptive().basic("meter-http@demo", PASSWORD).header("hono-ttd", "20")
                .contentType("application/json").body("{\"energy\":1204.5}").post(connectivity + "/telemetry");
        assertEquals(200, poll.statusCode(), poll.asString());
        assertEquals("read-now", poll.header("hono-command"));
        assertEquals(id, poll.header("hono-cmd-req-id"));
        given().auth().preemptive().basic("meter-http@demo", PASSWORD).header("hono-cmd-status", "200")
                .contentType("application/json").body("{\"energy\":1204.5}").post(connectivity + "/command/res/" + id)
                .then().statusCode(202);
        awaitStatus(id, "SUCCEEDED", Duration.ofSeconds(30));
        api().get(commands() + "/" + id).then()
                .body("history.status", equalTo(List.of("QUEUED", "SENT", "DELIVERED", "SUCCEEDED")));
        // The report that came with the poll reached the twin, as over MQTT.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> given().auth().oauth2(olivia)
                .get(system.service("twin-service").baseUrl() + "/api/2/things/demo:meter-http").then()
                .statusCode(200).body("features.telemetry.properties.energy", equalTo(1204.5f)));
    }

    @Test
    void theDeviceReachesItsDesiredStateAndTheDeltaClears() throws Exception {
        String twin = system.service("twin-service").baseUrl() + "/api/2/things/demo:lamp-4";
        try (Device lamp = new Device("lamp-4", true)) {
            lamp.publish("telemetry", "{\"interval\":60}");
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> given().auth().oauth2(olivia).get(twin)
                    .then().statusCode(200).body("features.telemetry.properties.interval", equalTo(60)));
            given().auth().oauth2(olivia).contentType("application/json").body("5")
                    .put(twin + "/features/telemetry/desiredProperties/interval").then().statusCode(201);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().auth().oauth2(olivia)
                    .get(twin).then().body("features.telemetry.properties.interval", equalTo(5)));
            given().auth().oauth2(olivia).get(twin + "/delta").then().statusCode(200)
                    .body("features", anEmptyMap());
            assertEquals("dt.desired", lamp.subjects().get(0));
        }
    }
}

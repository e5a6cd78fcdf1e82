package dev.doppel.systemtests;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.DoppelHome;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Ports;
import dev.doppel.devstack.Provisioner;
import dev.doppel.devstack.ServiceProcess;
import dev.doppel.devstack.SimulatedMeter;
import dev.doppel.devstack.testing.KafkaProbe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole system as a user meets it: the three services from their built jars, each in its own
 * JVM, on a real Kafka broker and the MongoDB stand-in; a real MQTT client library as the device,
 * HTTP as the application.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndIT {

    private static final String PASSWORD = "e2e-secret";
    private static LocalSystem system;
    private static ServiceProcess twin;
    private static ServiceProcess command;
    private static ServiceProcess connectivity;
    private static int mqttPort;
    /** dt-operator of tenant demo: reads twins, sends commands. */
    private static String olivia;

    @BeforeAll
    static void startSystem() throws Exception {
        system = new LocalSystem(Files.createTempDirectory("doppel-e2e-"), LocalSystem.Layout.freePorts())
                .withTracing(Ports.free());
        // Every trace recorded (the default samples 5 %), so the one message the trace test sends is.
        system.startInfrastructure(null).startServices(LocalSystem.SERVICES,
                Map.of("quarkus.otel.traces.sampler.arg", "1.0"));
        twin = system.service("twin-service");
        command = system.service("command-service");
        connectivity = system.service("connectivity-service");
        mqttPort = system.mqttPort();
        Provisioner provisioner = new Provisioner(connectivity.baseUrl(), system.tokens().password("admin", "admin"));
        olivia = system.tokens().password("olivia", "olivia");
        provisioner.device("demo", "sensor-1", PASSWORD);
        provisioner.device("demo", "actuator-1", PASSWORD);
    }

    @AfterAll
    static void stopSystem() {
        if (system != null) {
            system.close();
        }
    }

    private static MqttClient device(String deviceId, String password) throws MqttException {
        return PahoDevices.connect(mqttPort, deviceId, "demo", password);
    }

    @Test
    void everyServiceIsReadyAndKeepsHealthMetricsAndOpenApiOffItsApiPort() {
        for (ServiceProcess s : List.of(twin, command, connectivity)) {
            given().get(s.managementUrl() + "/q/health/ready").then().statusCode(200);
            given().get(s.managementUrl() + "/q/metrics").then().statusCode(200);
            given().get(s.managementUrl() + "/q/openapi").then().statusCode(200);
            // What an ingress routes to is the API port: none of it is there.
            for (String path : List.of("/q/health/ready", "/q/metrics", "/q/openapi")) {
                given().get(s.baseUrl() + path).then().statusCode(404);
            }
        }
    }

    @Test
    void telemetryPublishedOverMqttShowsInTheTwinAndBadInputLeavesItUnchanged() throws Exception {
        MqttClient sensor = device("sensor-1", PASSWORD);
        sensor.publish("telemetry", "{\"temperature\":21.5}".getBytes(StandardCharsets.UTF_8), 1, false);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                given().auth().oauth2(olivia).get(twin.baseUrl() + "/api/2/things/demo:sensor-1").then().statusCode(200)
                        .body("features.telemetry.properties.temperature", equalTo(21.5f)));
        int revision = given().auth().oauth2(olivia).get(twin.baseUrl() + "/api/2/things/demo:sensor-1").then().extract().path("_revision");

        // Malformed JSON: the adapter closes the connection and nothing reaches the twin.
        assertThrows(MqttException.class, () -> sensor.publish("telemetry",
                "{\"temperature\":99".getBytes(StandardCharsets.UTF_8), 1, false));
        // Wrong password: refused at CONNECT.
        MqttException refused = assertThrows(MqttException.class, () -> device("sensor-1", "wrong-password"));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refused.getReasonCode());

        MqttClient again = device("sensor-1", PASSWORD);
        again.publish("telemetry", "{\"humidity\":40}".getBytes(StandardCharsets.UTF_8), 1, false);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                given().auth().oauth2(olivia).get(twin.baseUrl() + "/api/2/things/demo:sensor-1").then()
                        .body("features.telemetry.properties.humidity", equalTo(40))
                        .body("features.telemetry.properties.temperature", equalTo(21.5f))
                        .body("_revision", equalTo(revision + 1)));
        again.disconnect();
    }

    @Test
    void aDeviceMessageIsOneTraceFromMqttToTheTwinWrite() throws Exception {
        MqttClient sensor = device("sensor-1", PASSWORD);
        sensor.publish("telemetry", "{\"traced\":7}".getBytes(StandardCharsets.UTF_8), 1, false);
        sensor.disconnect();
        String zipkin = system.zipkin().baseUrl();
        // The trace viewer (a real Zipkin server) shows one trace that starts at connectivity's MQTT
        // adapter, crosses Kafka, and ends in twin-service's write of demo:sensor-1.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            List<List<Map<String, Object>>> traces = given().queryParam("serviceName", "twin-service")
                    .queryParam("spanName", "twin write").queryParam("annotationQuery", "doppel.thing_id=demo:sensor-1")
                    .queryParam("limit", 50).get(zipkin + "/api/v2/traces")
                    .then().statusCode(200).extract().jsonPath().getList("$");
            boolean crossed = traces.stream().anyMatch(trace -> {
                Map<String, String> serviceOfSpan = new HashMap<>();
                Map<String, String> parentOfSpan = new HashMap<>();
                String write = null;
                String mqtt = null;
                for (Map<String, Object> span : trace) {
                    String id = (String) span.get("id");
                    serviceOfSpan.put(id, String.valueOf(((Map<?, ?>) span.get("localEndpoint")).get("serviceName")));
                    parentOfSpan.put(id, (String) span.get("parentId"));
                    if ("twin write".equals(span.get("name"))) {
                        write = id;
                    } else if ("mqtt telemetry".equals(span.get("name"))) {
                        mqtt = id;
                    }
                }
                // Walk up from the write: its ancestry must reach the MQTT span, through connectivity.
                for (String at = write; at != null; at = parentOfSpan.get(at)) {
                    if (at.equals(mqtt) && "connectivity-service".equals(serviceOfSpan.get(at))) {
                        return true;
                    }
                }
                return false;
            });
            assertTrue(crossed, "no trace leads from the MQTT message to the twin write: " + traces);
        });
    }

    @Test
    void commandSentOverRestReachesTheDeviceAndItsAnswerIsTheResponse() throws Exception {
        MqttClient actuator = device("actuator-1", PASSWORD);
        actuator.subscribe("command///req/#", 1, (topic, msg) -> {
            String[] s = topic.split("/", -1);
            String body = "{\"switched\":" + new String(msg.getPayload(), StandardCharsets.UTF_8) + "}";
            Thread.ofVirtual().start(() -> {
                try {
                    actuator.publish("command///res/" + s[4] + "/200", body.getBytes(StandardCharsets.UTF_8), 1, false);
                } catch (MqttException e) {
                    throw new IllegalStateException(e);
                }
            });
        });
        // The subscription must have reached connectivity's router before the command: wait for the ttd.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                given().auth().oauth2(olivia).contentType("application/json").body("true")
                        .post(command.baseUrl() + "/api/2/things/demo:actuator-1/inbox/messages/switch?timeout=5s")
                        .then().statusCode(200).body("switched", equalTo(true)));
        actuator.disconnect();
        given().auth().oauth2(olivia).body("true").post(command.baseUrl() + "/api/2/things/demo:actuator-1/inbox/messages/switch?timeout=5s")
                .then().statusCode(404).contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/device-not-connected"));
    }

    /** M2M: a smart meter on Modbus TCP (a real j2mod slave) is a twin like any sensor, and takes commands. */
    @Test
    void aModbusMeterIsPolledIntoItsTwinAndACommandWritesItsRegister() throws Exception {
        int port = Ports.free();
        try (SimulatedMeter meter = new SimulatedMeter()) {
            meter.start(port);
            new Provisioner(connectivity.baseUrl(), system.tokens().password("admin", "admin"))
                    .modbusDevice("demo", "meter-e2e", SimulatedMeter.plan(port, 500));
            String url = twin.baseUrl() + "/api/2/things/demo:meter-e2e";
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().auth().oauth2(olivia).get(url).then()
                    .statusCode(200)
                    .body("features.meter.properties.tariff", equalTo(28.5f))
                    .body("features.meter.properties.energy", greaterThan(1000f))
                    .body("features.connectivity.properties.status", equalTo("connected"))
                    .body("features.connectivity.properties.transport", equalTo("modbus")));

            given().auth().oauth2(olivia).contentType("application/json").body("{\"register\":\"tariff\",\"value\":31.2}")
                    .post(command.baseUrl() + "/api/2/things/demo:meter-e2e/inbox/messages/modbus.write?timeout=10s")
                    .then().statusCode(204);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().auth().oauth2(olivia).get(url).then()
                    .body("features.meter.properties.tariff", equalTo(31.2f)));
            // A register the plan does not let write: the device's refusal is the answer, nothing written.
            given().auth().oauth2(olivia).contentType("application/json").body("{\"register\":\"energy\",\"value\":0}")
                    .post(command.baseUrl() + "/api/2/things/demo:meter-e2e/inbox/messages/modbus.write?timeout=10s")
                    .then().statusCode(400);
        }
    }

    @Test
    void aDeviceThatDoesNotAnswerGives408AndTimedOut() throws Exception {
        MqttClient mute = device("actuator-1", PASSWORD);
        mute.subscribe("command///req/#", 1, (topic, msg) -> {
            // receives, never answers
        });
        Thread.sleep(500);
        String id = given().auth().oauth2(olivia).body("x").post(command.baseUrl()
                + "/api/2/things/demo:actuator-1/inbox/messages/switch?timeout=1s")
                .then().statusCode(408).extract().header("Doppel-Command-Id");
        given().auth().oauth2(olivia).get(command.baseUrl() + "/api/commands/" + id).then().body("status", equalTo("TIMED_OUT"));
        mute.disconnect();
    }

    /**
     * CoAP with libcoap's client over DTLS (pre-shared key): telemetry reaches the twin, and a command
     * sent over REST while the device is offline reaches it when it next waits with hono-ttd; its
     * answer over CoAP settles the command.
     */
    @Test
    void aCoapDeviceReportsIntoItsTwinAndPicksUpItsCommand() throws Exception {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/coap-client-openssl")), "this test needs coap-client-openssl: apt-get install libcoap3-bin");
        String psk = "coap-e2e-secret-key";
        new Provisioner(connectivity.baseUrl(), system.tokens().password("admin", "admin"))
                .device("demo", "coap-e2e", PASSWORD, psk);
        String coaps = "coaps://127.0.0.1:" + system.coapsPort();
        assertEquals("", coapClient("-u", "coap-e2e@demo", "-k", psk, "-m", "POST", "-t", "application/json",
                "-e", "{\"humidity\":55}", coaps + "/telemetry"));
        String twinUrl = twin.baseUrl() + "/api/2/things/demo:coap-e2e";
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().auth().oauth2(olivia).get(twinUrl).then()
                .statusCode(200).body("features.telemetry.properties.humidity", equalTo(55)));

        // The device is not waiting: the command is queued until it next waits for one.
        String location = given().auth().oauth2(olivia).contentType("application/json")
                .body("{\"thingId\":\"demo:coap-e2e\",\"subject\":\"switch\",\"payload\":{\"on\":true},"
                        + "\"timeout\":\"60s\",\"ttl\":\"5m\"}")
                .post(command.baseUrl() + "/api/commands").then().statusCode(202).extract().header("Location");
        String commandUrl = location.startsWith("http") ? location : command.baseUrl() + location;
        given().auth().oauth2(olivia).get(commandUrl).then().body("status", equalTo("QUEUED"));
        assertEquals("{\"on\":true}", coapClient("-u", "coap-e2e@demo", "-k", psk, "-m", "POST",
                "-t", "application/json", "-e", "{\"humidity\":56}", coaps + "/telemetry?hono-ttd=20"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().auth().oauth2(olivia).get(commandUrl)
                .then().body("status", equalTo("DELIVERED")));
        String id = commandUrl.substring(commandUrl.lastIndexOf('/') + 1);
        assertEquals("", coapClient("-u", "coap-e2e@demo", "-k", psk, "-m", "POST", "-t", "application/json",
                "-e", "{\"switched\":true}", coaps + "/command_response/" + id + "?hono-cmd-status=200"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().auth().oauth2(olivia).get(commandUrl)
                .then().body("status", equalTo("SUCCEEDED")));
    }

    private static String coapClient(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("coap-client-openssl", "-B", "30"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(40, TimeUnit.SECONDS), "coap-client did not finish");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }

    /** Debian's mosquitto clients, a third-party MQTT implementation, as the README shows them. */
    @Test
    void mosquittoClientsWorkAsDocumented() throws Exception {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")), "this test needs mosquitto_pub: apt-get install mosquitto-clients");
        Process pub = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(mqttPort),
                "-u", "sensor-1@demo", "-P", PASSWORD, "-t", "telemetry", "-q", "1", "-m", "{\"pressure\":1013}")
                .redirectErrorStream(true).start();
        assertTrue(pub.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, pub.exitValue(), new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                given().auth().oauth2(olivia).get(twin.baseUrl() + "/api/2/things/demo:sensor-1").then()
                        .body("features.telemetry.properties.pressure", equalTo(1013)));

        Process bad = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(mqttPort),
                "-u", "sensor-1@demo", "-P", "nope", "-t", "telemetry", "-q", "1", "-m", "{}")
                .redirectErrorStream(true).start();
        assertTrue(bad.waitFor(20, TimeUnit.SECONDS));
        String out = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bad.exitValue() != 0, out);
    }

    /**
     * Runs last, once the other tests made traffic of every kind: each metric the Grafana dashboard
     * in k8s/ queries is one a service really exports, so the dashboard shows data, not gaps.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void theDashboardQueriesOnlyMetricsTheServicesExport() throws Exception {
        // Traffic the other tests do not make: an HTTP device report, and an event twin-service refuses.
        given().auth().preemptive().basic("sensor-1@demo", PASSWORD).contentType("application/json")
                .body("{\"viaHttp\":1}").post(connectivity.baseUrl() + "/telemetry").then().statusCode(202);
        try (var kafka = new KafkaProbe(system.kafka().bootstrapServers())) {
            kafka.sendEvent(Topics.DEVICE_TELEMETRY, "demo:sensor-1",
                    EventTypes.TELEMETRY_RECEIVED, "/test", "not a report".getBytes(StandardCharsets.UTF_8));
        }
        String dashboard = Files.readString(DoppelHome.locate()
                .resolve("k8s/grafana/doppel-dashboard.json"));
        Set<String> queried = new TreeSet<>();
        Matcher m = Pattern.compile("\\b(doppel_[a-z_]+|kafka_consumer_[a-z_]+|http_server_[a-z_]+)\\b").matcher(dashboard);
        while (m.find()) {
            queried.add(m.group(1));
        }
        assertTrue(queried.size() >= 10, "the dashboard queries " + queried);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            StringBuilder exported = new StringBuilder();
            for (ServiceProcess s : List.of(twin, command, connectivity)) {
                exported.append(given().get(s.managementUrl() + "/q/metrics").then().statusCode(200).extract().asString());
            }
            List<String> missing = queried.stream()
                    .filter(name -> !exported.toString().lines().anyMatch(l -> l.startsWith(name + "{") || l.startsWith(name + " ")))
                    .toList();
            assertTrue(missing.isEmpty(), "the dashboard queries metrics no service exports: " + missing);
        });
    }
}

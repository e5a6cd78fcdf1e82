package dev.doppel.systemtests;

import static dev.doppel.devstack.testing.KafkaProbe.header;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Provisioner;
import dev.doppel.devstack.ServiceProcess;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.MosquittoBroker;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.core.ConditionTimeoutException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The device protocols that {@link EndToEndIT} does not drive, each end to end through the whole system
 * (the three services from their jars, real Kafka, the MongoDB stand-in, real Keycloak) and each with a
 * real client on the device side: telemetry reaches the twin, a command sent over REST reaches the
 * device, and the device's answer settles it.
 */
class DeviceProtocolsIT {

    private static final String PASSWORD = "protocols-secret";
    /** The tenant connectivity reads from Hono's topics; the test writes there as Hono's adapters do. */
    private static final String HONO_TENANT = "hono-e2e";
    private static LocalSystem system;
    private static ServiceProcess twin;
    private static ServiceProcess command;
    private static ServiceProcess connectivity;
    /**
     * Devices and applications that wait in the background: threads of their own, not the common
     * fork-join pool, which on a 2-core machine has one thread and would run them one after another.
     */
    private static final ExecutorService BACKGROUND = Executors.newVirtualThreadPerTaskExecutor();

    @BeforeAll
    static void startSystem() throws Exception {
        system = new LocalSystem(Files.createTempDirectory("doppel-protocols-"), LocalSystem.Layout.freePorts());
        // One configuration for all three services; only connectivity reads the doppel.hono keys.
        system.startInfrastructure(null).startServices(LocalSystem.SERVICES,
                Map.of("doppel.hono.enabled", "true", "doppel.hono.tenants", HONO_TENANT));
        twin = system.service("twin-service");
        command = system.service("command-service");
        connectivity = system.service("connectivity-service");
        new Provisioner(connectivity.baseUrl(), system.tokens().password("admin", "admin"))
                .device("demo", "http-e2e", PASSWORD);
    }

    @AfterAll
    static void stopSystem() {
        BACKGROUND.shutdownNow();
        if (system != null) {
            system.close();
        }
    }

    /** olivia: dt-operator of tenant demo. */
    private static RequestSpecification olivia() {
        return given().auth().oauth2(system.tokens().password("olivia", "olivia"));
    }

    /** admin: dt-admin, every tenant (the Hono tenant is no user's own). */
    private static RequestSpecification admin() {
        return given().auth().oauth2(system.tokens().password("admin", "admin"));
    }

    /** The synchronous inbox, waiting in the background as an application would. */
    private static CompletableFuture<ExtractableResponse<Response>> sendAndWait(RequestSpecification as,
            String thingId, String subject, String json) {
        return CompletableFuture.supplyAsync(() -> as.contentType("application/json").body(json)
                .post(command.baseUrl() + "/api/2/things/" + thingId + "/inbox/messages/" + subject + "?timeout=30s")
                .then().extract(), BACKGROUND);
    }

    // ---- HTTP, with curl as the device ---------------------------------------------------------------

    /**
     * Runs the device side as http.md shows it, with curl: a report, a command queued while the
     * device was away and picked up by its next report with {@code hono-ttd}, the device's answer; then
     * a command sent and waited for while curl waits for it.
     */
    @Test
    void anHttpDeviceDrivenByCurlReportsIntoItsTwinAndAnswersCommands() throws Exception {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "this test needs curl: apt-get install curl");
        String user = "http-e2e@demo:" + PASSWORD;
        String adapter = connectivity.baseUrl();
        String twinUrl = twin.baseUrl() + "/api/2/things/demo:http-e2e";

        CurlResponse report = curl("-i", "-u", user, "-H", "Content-Type: application/json",
                adapter + "/telemetry", "-d", "{\"temperature\":21.5}");
        assertEquals(202, report.status(), report.raw());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> olivia().get(twinUrl).then().statusCode(200)
                .body("features.telemetry.properties.temperature", equalTo(21.5f)));

        // Offline: the command waits until the device next asks for commands.
        String location = olivia().contentType("application/json")
                .body("{\"thingId\":\"demo:http-e2e\",\"subject\":\"switch\",\"payload\":{\"on\":true},"
                        + "\"timeout\":\"60s\",\"ttl\":\"5m\"}")
                .post(command.baseUrl() + "/api/commands").then().statusCode(202).extract().header("Location");
        String commandUrl = location.startsWith("http") ? location : command.baseUrl() + location;
        String id = commandUrl.substring(commandUrl.lastIndexOf('/') + 1);
        olivia().get(commandUrl).then().body("status", equalTo("QUEUED"));

        // The documented request: a report that waits up to 30 s; the queued command is its answer.
        CurlResponse picked = curl("-i", "-u", user, "-H", "Content-Type: application/json", "-H", "hono-ttd: 30",
                adapter + "/telemetry", "-d", "{\"temperature\":22.5}");
        assertEquals(200, picked.status(), picked.raw());
        assertEquals("switch", picked.header("hono-command"), picked.raw());
        assertEquals(id, picked.header("hono-cmd-req-id"), picked.raw());
        assertEquals("{\"on\":true}", picked.body());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> olivia().get(commandUrl).then()
                .body("status", equalTo("DELIVERED")));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> olivia().get(twinUrl).then()
                .body("features.telemetry.properties.temperature", equalTo(22.5f)));

        CurlResponse answered = curl("-i", "-u", user, "-H", "hono-cmd-status: 200", "-H",
                "Content-Type: application/json", adapter + "/command/res/" + picked.header("hono-cmd-req-id"),
                "-d", "{\"switched\":true}");
        assertEquals(202, answered.status(), answered.raw());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> olivia().get(commandUrl).then()
                .body("status", equalTo("SUCCEEDED"))
                .body("response.status", equalTo(200)));
        // Answered once: a second answer to the same command is refused.
        CurlResponse again = curl("-i", "-u", user, "-H", "hono-cmd-status: 200", "-H",
                "Content-Type: application/json", adapter + "/command/res/" + id, "-d", "{\"switched\":true}");
        assertEquals(404, again.status(), again.raw());

        // Waiting first, with an empty request that only asks for commands; the application sends and
        // waits, and the device's answer is the application's response.
        CompletableFuture<CurlResponse> device = CompletableFuture.supplyAsync(() -> {
            try {
                CurlResponse waiting = curl("-i", "-u", user, "-X", "POST", "-H", "hono-ttd: 30",
                        adapter + "/telemetry");
                String reqId = waiting.header("hono-cmd-req-id");
                assertNotNull(reqId, "no command came to the waiting request: " + waiting.raw());
                assertEquals("dim", waiting.header("hono-command"));
                assertEquals("{\"level\":30}", waiting.body());
                return curl("-i", "-u", user, "-H", "hono-cmd-status: 200", "-H", "Content-Type: application/json",
                        adapter + "/command/res/" + reqId, "-d", "{\"dimmed\":30}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, BACKGROUND);
        // Until curl's request is waiting, the device is not connected (404); then it takes the command.
        ExtractableResponse<Response> response;
        try {
            response = await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(200))
                    .until(() -> sendAndWait(olivia(), "demo:http-e2e", "dim", "{\"level\":30}")
                            .get(40, TimeUnit.SECONDS), r -> r.statusCode() != 404);
        } catch (ConditionTimeoutException e) {
            if (device.isCompletedExceptionally()) {
                device.join(); // the device's failure is the one to report
            }
            throw e;
        }
        // The device's side first: if it went wrong there, that is the failure to report.
        CurlResponse deviceAnswer = device.get(10, TimeUnit.SECONDS);
        assertEquals(202, deviceAnswer.status(), deviceAnswer.raw());
        assertEquals(200, response.statusCode(), response.asString());
        assertEquals("{\"dimmed\":30}", response.asString());
        olivia().get(command.baseUrl() + "/api/commands/" + response.header("Doppel-Command-Id")).then()
                .body("status", equalTo("SUCCEEDED"));
    }

    /**
     * A device that keeps adding keys fills its twin: as the twin nears its limit twin-service tells
     * connectivity its room, which then answers the report that would overgrow it with 413
     * {@code twin-full}; values of the twin's keys still pass, and once an operator deletes what is
     * not needed, the device's new keys are taken again.
     */
    @Test
    void aDeviceThatFillsItsTwinIsToldSoAndIsTakenAgainOnceThereIsRoom() throws Exception {
        new Provisioner(connectivity.baseUrl(), system.tokens().password("admin", "admin"))
                .device("demo", "full-e2e", PASSWORD);
        String twinUrl = twin.baseUrl() + "/api/2/things/demo:full-e2e";
        int[] batch = {0};
        // About 60 KB of new keys a report (the largest body is 64 KiB); the twin holds 256 KiB.
        java.util.function.Supplier<Response> fill = () -> fullDevice()
                .body(newKeys("b" + batch[0]++, 1000)).post(connectivity.baseUrl() + "/telemetry");
        for (int i = 0; i < 4; i++) {
            assertEquals(202, fill.get().statusCode());
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> olivia().get(twinUrl).then().statusCode(200)
                .body("features.telemetry.properties.size()", equalTo(4000)));
        Response refused = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(fill::get, r -> r.statusCode() == 413);
        assertTrue(refused.asString().contains("twin-full"), refused.asString());
        fullDevice().body("{\"b0-0\":\"changed\"}").post(connectivity.baseUrl() + "/telemetry").then().statusCode(202);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> olivia().get(twinUrl).then()
                .body("features.telemetry.properties.'b0-0'", equalTo("changed"))
                .body("features.telemetry.properties.size()", equalTo(4000)));

        given().auth().oauth2(system.tokens().password("admin", "admin"))
                .delete(twinUrl + "/features/telemetry").then().statusCode(204);
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
                .until(fill::get, r -> r.statusCode() == 202);
    }

    private static RequestSpecification fullDevice() {
        return given().auth().preemptive().basic("full-e2e@demo", PASSWORD).contentType("application/json");
    }

    /** {@code count} new keys of about 60 bytes each, all starting with {@code prefix}. */
    private static String newKeys(String prefix, int count) {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < count; i++) {
            b.append(i == 0 ? "" : ",").append('"').append(prefix).append('-').append(i).append("\":\"")
                    .append("x".repeat(48)).append('"');
        }
        return b.append('}').toString();
    }

    /** What curl printed with {@code -i}: the status, the headers (names in lower case) and the body. */
    private record CurlResponse(int status, Map<String, String> headers, String body, String raw) {

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        static CurlResponse parse(String out) {
            String rest = out;
            while (true) {
                int end = rest.indexOf("\r\n\r\n");
                if (end < 0) {
                    throw new IllegalStateException("curl printed no HTTP response: " + out);
                }
                String[] lines = rest.substring(0, end).split("\r\n");
                int status = Integer.parseInt(lines[0].split(" ")[1]);
                rest = rest.substring(end + 4);
                if (status >= 200) { // skips interim answers (100 Continue)
                    Map<String, String> headers = new HashMap<>();
                    for (int i = 1; i < lines.length; i++) {
                        int colon = lines[i].indexOf(':');
                        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                                lines[i].substring(colon + 1).trim());
                    }
                    return new CurlResponse(status, headers, rest, out);
                }
            }
        }
    }

    /** Runs curl (quiet but for errors) with the given arguments; {@code -i} makes it print the response's head. */
    private static CurlResponse curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "40"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(45, TimeUnit.SECONDS), "curl did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "curl failed: " + text);
        return CurlResponse.parse(text);
    }

    // ---- Eclipse Hono northbound ---------------------------------------------------------------------

    /**
     * No Hono runs here (its adapters are not published as runnable jars), so the test writes what
     * Hono's adapters write, in Hono's Kafka format, and reads the commands Hono would deliver.
     */
    @Test
    void aHonoDeviceReportsIntoItsTwinAndItsCommandGoesThroughHono() throws Exception {
        String thingId = HONO_TENANT + ":pump-1";
        try (KafkaProbe hono = new KafkaProbe(system.kafka().bootstrapServers());
                KafkaConsumer<String, byte[]> commands = hono.subscribe("hono.command." + HONO_TENANT)) {
            hono.sendRaw("hono.telemetry." + HONO_TENANT, "pump-1", "{\"pressure\":2.5}".getBytes(StandardCharsets.UTF_8),
                    List.of(header("device_id", "pump-1"), header("content-type", "application/json"),
                            header("creation-time", Long.toString(System.currentTimeMillis())), header("qos", "0"),
                            header("orig_adapter", "hono-mqtt")));
            // The bridge may still be joining its consumer group; it reads from the earliest record.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> admin()
                    .get(twin.baseUrl() + "/api/2/things/" + thingId).then().statusCode(200)
                    .body("features.telemetry.properties.pressure", equalTo(2.5f)));

            CompletableFuture<ExtractableResponse<Response>> answer = sendAndWait(admin(), thingId, "switch",
                    "{\"on\":true}");
            ConsumerRecord<String, byte[]> sent = KafkaProbe.await(commands, r -> "pump-1".equals(r.key()),
                    Duration.ofSeconds(30));
            assertNotNull(sent, "no command on Hono's command topic");
            assertEquals("pump-1", KafkaProbe.header(sent, "device_id"));
            assertEquals("switch", KafkaProbe.header(sent, "subject"));
            assertEquals("true", KafkaProbe.header(sent, "response-required"));
            assertEquals("application/json", KafkaProbe.header(sent, "content-type"));
            assertEquals("{\"on\":true}", new String(sent.value(), StandardCharsets.UTF_8));
            String correlationId = KafkaProbe.header(sent, "correlation-id");
            assertNotNull(correlationId, "a command that wants an answer has a correlation-id");

            // The device's answer, as Hono's adapter writes it.
            hono.sendRaw("hono.command_response." + HONO_TENANT, "pump-1",
                    "{\"switched\":true}".getBytes(StandardCharsets.UTF_8),
                    List.of(header("device_id", "pump-1"), header("tenant_id", HONO_TENANT),
                            header("correlation-id", correlationId), header("status", "200"),
                            header("content-type", "application/json")));
            ExtractableResponse<Response> response = answer.get(40, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.asString());
            assertEquals("{\"switched\":true}", response.asString());
            assertEquals(correlationId, response.header("Doppel-Command-Id"));
            admin().get(command.baseUrl() + "/api/commands/" + correlationId).then().statusCode(200)
                    .body("status", equalTo("SUCCEEDED"));
        }
    }

    // ---- External broker bridge ----------------------------------------------------------------------

    /**
     * A fleet on its own broker, as bridge.md walks through it: Debian's mosquitto is that broker,
     * mosquitto_pub a device's reports and answers, and an Eclipse Paho client the device listening for
     * its commands.
     */
    @Test
    void aFleetOnItsOwnBrokerReportsIntoTwinsAndAnswersCommands() throws Exception {
        assertTrue(MosquittoBroker.installed(), "this test needs Debian's mosquitto: apt-get install mosquitto mosquitto-clients");
        try (MosquittoBroker broker = MosquittoBroker.start()) {
            String registry = connectivity.baseUrl() + "/api/registry";
            admin().contentType("application/json").body("{\"enabled\":true}")
                    .put(registry + "/devices/demo/plant-e2e").then().statusCode(201);
            admin().contentType("application/json").body("""
                    {"uri": "%s",
                     "subscriptions": [{"filter": "plant/+/meters/+/data", "device": "{3}", "feature": "{1}"}],
                     "commandTopic": "plant/cmd/{device}/{subject}/{requestId}",
                     "responses": {"filter": "plant/res/+/+/+", "device": "{2}", "requestId": "{3}", "status": "{4}"}}
                    """.formatted(broker.uri())).put(registry + "/connections/demo/plant").then().statusCode(201);

            // The bridge connects within seconds; until it has subscribed, the fleet's broker drops reports.
            String twinUrl = twin.baseUrl() + "/api/2/things/demo:plant-e2e";
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                broker.publish("plant/north/meters/plant-e2e/data", "{\"kwh\":12.5}");
                olivia().get(twinUrl).then().statusCode(200)
                        .body("features.north.properties.kwh", equalTo(12.5f));
            });
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> olivia().get(twinUrl).then()
                    .body("features.connectivity.properties.status", equalTo("connected"))
                    .body("features.connectivity.properties.transport", equalTo("mqtt-bridge")));

            MqttClient device = new MqttClient(broker.uri(), "plant-e2e-" + UUID.randomUUID(), new MemoryPersistence());
            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            try {
                MqttConnectOptions options = new MqttConnectOptions();
                options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
                device.connect(options);
                // Returns once the broker acknowledged the subscription: no command can miss it.
                device.subscribe("plant/cmd/plant-e2e/#", 1, (topic, message) -> received.add(topic + " "
                        + new String(message.getPayload(), StandardCharsets.UTF_8)));

                CompletableFuture<ExtractableResponse<Response>> answer = sendAndWait(olivia(), "demo:plant-e2e",
                        "reset", "{\"to\":0}");
                String got = received.poll(30, TimeUnit.SECONDS);
                assertNotNull(got, "no command on the fleet's broker");
                String prefix = "plant/cmd/plant-e2e/reset/";
                assertTrue(got.startsWith(prefix) && got.endsWith(" {\"to\":0}"), got);
                String id = got.substring(prefix.length(), got.indexOf(' '));

                broker.publish("plant/res/plant-e2e/" + id + "/200", "{\"reset\":true}");
                ExtractableResponse<Response> response = answer.get(40, TimeUnit.SECONDS);
                assertEquals(200, response.statusCode(), response.asString());
                assertEquals("{\"reset\":true}", response.asString());
                olivia().get(command.baseUrl() + "/api/commands/" + id).then().statusCode(200)
                        .body("status", equalTo("SUCCEEDED"));
            } finally {
                if (device.isConnected()) {
                    device.disconnect();
                }
                device.close();
            }
            admin().delete(registry + "/connections/demo/plant").then().statusCode(204);
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> olivia().get(twinUrl).then()
                    .body("features.connectivity.properties.status", equalTo("disconnected")));
        }
    }
}

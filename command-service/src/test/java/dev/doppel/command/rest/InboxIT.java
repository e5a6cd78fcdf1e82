package dev.doppel.command.rest;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.hamcrest.Matchers.startsWith;

import dev.doppel.command.RegisteredDevices;
import dev.doppel.command.testing.StoreWrites;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Command-service against a real Kafka broker and the MongoDB stand-in. The devices' side
 * (connectivity) is played by a Kafka client that answers as connectivity would: that service is
 * not under test here; the end-to-end test runs the real one.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class InboxIT {

    private static KafkaProbe kafka;

    @jakarta.inject.Inject
    StoreWrites storeWrites;
    private static Thread devices;
    private static volatile boolean running = true;

    @BeforeAll
    static void startDeviceSide() {
        RegisteredDevices.register("demo:answering", "demo:failing", "demo:offline", "demo:silent", "demo:reordering",
                "demo:hostile", "demo:acknowledging", "demo:working");
        kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
        KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS);
        devices = new Thread(() -> {
            try (commands) {
                while (running) {
                    for (ConsumerRecord<String, byte[]> r : commands.poll(Duration.ofMillis(100))) {
                        answer(KafkaProbe.read(r, CommandRequested.class));
                    }
                }
            }
        }, "device-side");
        devices.start();
    }

    @AfterAll
    static void stopDeviceSide() throws InterruptedException {
        running = false;
        devices.join(5000);
        kafka.close();
    }

    private static void answer(CommandRequested c) {
        switch (c.thingId()) {
            case "demo:answering" -> {
                status(c, CommandStatus.SENT, null, null, null);
                status(c, CommandStatus.DELIVERED, null, null, null);
                status(c, CommandStatus.SUCCEEDED, 200, null, ("{\"echo\":" + new String(c.payload(),
                        StandardCharsets.UTF_8) + "}").getBytes(StandardCharsets.UTF_8));
            }
            case "demo:reordering" -> {
                // Its answer is reported before its earlier steps, and the acknowledgement comes twice.
                Instant sent = Instant.now();
                status(c, CommandStatus.SUCCEEDED, 200, null, "{}".getBytes(StandardCharsets.UTF_8),
                        sent.plusMillis(2));
                status(c, CommandStatus.DELIVERED, null, null, null, sent.plusMillis(1));
                status(c, CommandStatus.DELIVERED, null, null, null, sent.plusMillis(1));
                status(c, CommandStatus.SENT, null, null, null, sent);
            }
            case "demo:failing" -> status(c, CommandStatus.FAILED, 503, null,
                    "busy".getBytes(StandardCharsets.UTF_8));
            case "demo:hostile" -> {
                // What a device (or a connectivity replica it fooled) may put into its answer.
                byte[] page = "<script>alert(1)</script>".getBytes(StandardCharsets.UTF_8);
                switch (c.subject()) {
                    case "challenge" -> answerWith(c, 401, "text/plain", page);
                    case "redirect" -> answerWith(c, 302, "text/plain", page);
                    case "nonsense" -> answerWith(c, 999, "text/plain", page);
                    case "page" -> answerWith(c, 200, "text/html", page);
                    case "injected" -> answerWith(c, 200, "text/plain\r\nSet-Cookie: session=stolen", page);
                    default -> answerWith(c, 418, "text/plain", "teapot".getBytes(StandardCharsets.UTF_8));
                }
            }
            case "demo:working" -> {
                // It answers once command-service has taken in its acknowledgement, as a device that
                // carries the command out for a while does.
                status(c, CommandStatus.SENT, null, null, null);
                status(c, CommandStatus.DELIVERED, null, null, null);
                awaitStatusesTakenIn();
                status(c, CommandStatus.SUCCEEDED, 200, null, "{}".getBytes(StandardCharsets.UTF_8));
            }
            case "demo:acknowledging" -> {
                status(c, CommandStatus.SENT, null, null, null);
                status(c, CommandStatus.DELIVERED, null, null, null);
            }
            case "demo:offline" -> status(c, CommandStatus.FAILED, 404, CommandStatusChanged.DEVICE_NOT_CONNECTED,
                    null);
            default -> {
                // demo:silent and others never answer
            }
        }
    }

    private static void answerWith(CommandRequested c, int code, String contentType, byte[] payload) {
        kafka.sendEvent(Topics.COMMAND_STATUS, c.thingId(), EventTypes.COMMAND_STATUS_CHANGED, "/connectivity/test",
                new CommandStatusChanged(UUID.randomUUID().toString(), c.commandId(), c.thingId(),
                        code < 400 ? CommandStatus.SUCCEEDED : CommandStatus.FAILED, code, null, contentType, payload,
                        Instant.now(), "test"));
    }

    @Test
    void aDevicesAnswerCannotPoseAsThisApiOrAsAPage() {
        // The positive control: an unusual but valid status and body pass through as the device sent them.
        asAdmin().body("x").post("/api/2/things/demo:hostile/inbox/messages/brew?timeout=10s")
                .then().statusCode(418).body(equalTo("teapot"));
        for (String subject : new String[] {"challenge", "redirect", "nonsense"}) {
            asAdmin().body("x").post("/api/2/things/demo:hostile/inbox/messages/" + subject + "?timeout=10s")
                    .then().statusCode(502).contentType("application/problem+json")
                    .body("type", equalTo("https://doppel.dev/problems/invalid-device-answer"));
        }
        asAdmin().body("x").post("/api/2/things/demo:hostile/inbox/messages/page?timeout=10s")
                .then().statusCode(200).contentType(startsWith("text/html"))
                .header("X-Content-Type-Options", "nosniff")
                .header("Content-Security-Policy", startsWith("sandbox"));
        asAdmin().body("x").post("/api/2/things/demo:hostile/inbox/messages/injected?timeout=10s")
                .then().statusCode(200).contentType("application/octet-stream")
                .header("Set-Cookie", org.hamcrest.Matchers.nullValue());
    }

    private static void status(CommandRequested c, CommandStatus s, Integer code, String reason, byte[] payload) {
        status(c, s, code, reason, payload, Instant.now());
    }

    private static void status(CommandRequested c, CommandStatus s, Integer code, String reason, byte[] payload,
            Instant at) {
        kafka.sendEvent(Topics.COMMAND_STATUS, c.thingId(), EventTypes.COMMAND_STATUS_CHANGED, "/connectivity/test",
                new CommandStatusChanged(UUID.randomUUID().toString(), c.commandId(), c.thingId(), s, code, reason,
                        code == null ? null : code == 200 ? "application/json" : "text/plain", payload, at,
                        "test"));
    }

    @Test
    void theDevicesAnswerIsTheHttpResponseAndTheCommandIsRecordedAsSucceeded() {
        String id = asAdmin().contentType("application/json").body("{\"on\":true}")
                .post("/api/2/things/demo:answering/inbox/messages/switch?timeout=10s")
                .then().statusCode(200)
                .contentType("application/json")
                .body("echo.on", equalTo(true))
                .extract().header(InboxResource.COMMAND_ID_HEADER);
        asAdmin().get("/api/commands/" + id).then().statusCode(200)
                .body("status", equalTo("SUCCEEDED"))
                .body("thingId", equalTo("demo:answering"))
                .body("subject", equalTo("switch"))
                .body("response.status", equalTo(200))
                // Every step is there as soon as the caller has the answer.
                .body("history.status", equalTo(List.of("QUEUED", "SENT", "DELIVERED", "SUCCEEDED")));
    }

    /** Until command-service's shared consumer has committed every status on the topic. */
    private static void awaitStatusesTakenIn() {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> kafka.uncommitted("command-service", Topics.COMMAND_STATUS) == 0);
    }

    @Test
    void anAnsweredCommandTakesTwoStoreWritesItsInsertAndItsEndWithTheStepsBeforeIt() {
        String id = asAdmin().body("{}").post("/api/2/things/demo:working/inbox/messages/switch?timeout=20s")
                .then().statusCode(200).extract().header(InboxResource.COMMAND_ID_HEADER);
        // Once the shared consumer has committed the answer too, no write of it is still to come.
        awaitStatusesTakenIn();
        assertEquals(2, storeWrites.on(id), "store writes of command " + id);
        asAdmin().get("/api/commands/" + id).then().statusCode(200)
                .body("history.status", equalTo(List.of("QUEUED", "SENT", "DELIVERED", "SUCCEEDED")));
    }

    @Test
    void stepsReportedAfterTheAnswerAreAddedToTheHistoryOnceAndChangeNothingElse() {
        String id = asAdmin().body("x").post("/api/2/things/demo:reordering/inbox/messages/switch?timeout=10s")
                .then().statusCode(200)
                .extract().header(InboxResource.COMMAND_ID_HEADER);
        // SENT was reported last, after the repeated DELIVERED: once it shows, both DELIVERED were recorded.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> asAdmin().get("/api/commands/" + id).then()
                .body("history.status", equalTo(List.of("QUEUED", "SENT", "DELIVERED", "SUCCEEDED")))
                .body("status", equalTo("SUCCEEDED"))
                .body("response.status", equalTo(200)));
    }

    @Test
    void aDeviceErrorStatusAndBodyPassThrough() {
        asAdmin().body("x").post("/api/2/things/demo:failing/inbox/messages/reboot?timeout=10s")
                .then().statusCode(503).contentType(startsWith("text/plain")).body(equalTo("busy"));
    }

    @Test
    void noAnswerInTimeIs408AndTheCommandIsRecordedAsTimedOut() {
        long t0 = System.nanoTime();
        String id = asAdmin().body("x").post("/api/2/things/demo:silent/inbox/messages/switch?timeout=1s")
                .then().statusCode(408)
                .contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/command-timed-out"))
                .extract().header(InboxResource.COMMAND_ID_HEADER);
        long millis = (System.nanoTime() - t0) / 1_000_000;
        org.junit.jupiter.api.Assertions.assertTrue(millis >= 1000 && millis < 8000, "answered after " + millis + " ms");
        asAdmin().get("/api/commands/" + id).then().statusCode(200).body("status", equalTo("TIMED_OUT"));
    }

    @Test
    void theStepsOfACommandThatTimedOutAreRecordedWithItsEnd() {
        String id = asAdmin().body("x").post("/api/2/things/demo:acknowledging/inbox/messages/switch?timeout=1s")
                .then().statusCode(408).extract().header(InboxResource.COMMAND_ID_HEADER);
        asAdmin().get("/api/commands/" + id).then().statusCode(200).body("status", equalTo("TIMED_OUT"))
                .body("history.status", equalTo(List.of("QUEUED", "SENT", "DELIVERED", "TIMED_OUT")));
    }

    @Test
    void aDeviceThatIsNotConnectedIs404Problem() {
        String id = asAdmin().body("x").post("/api/2/things/demo:offline/inbox/messages/switch?timeout=10s")
                .then().statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/device-not-connected"))
                .extract().header(InboxResource.COMMAND_ID_HEADER);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> asAdmin().get("/api/commands/" + id).then()
                .body("status", equalTo("FAILED")));
    }

    @Test
    void timeoutZeroAnswers202WithTheCommandsLocation() {
        String location = asAdmin().body("x").post("/api/2/things/demo:silent/inbox/messages/switch?timeout=0")
                .then().statusCode(202).body("status", equalTo("QUEUED"))
                .extract().header("Location");
        asAdmin().get(location).then().statusCode(200).body("status", equalTo("QUEUED"));
    }

    @Test
    void badRequestsAreProblemsAndStoreNothing() {
        asAdmin().body("x").post("/api/2/things/demo:answering/inbox/messages/switch?timeout=abc")
                .then().statusCode(400).contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/invalid-timeout"));
        asAdmin().body("x").post("/api/2/things/demo:answering/inbox/messages/switch?timeout=61s")
                .then().statusCode(400);
        asAdmin().body("x").post("/api/2/things/no-colon/inbox/messages/switch")
                .then().statusCode(400).body("type", equalTo("https://doppel.dev/problems/invalid-thing-id"));
        asAdmin().body("x").post("/api/2/things/demo:answering/inbox/messages/bad+subject")
                .then().statusCode(400).body("type", equalTo("https://doppel.dev/problems/invalid-subject"));
        asAdmin().body(new byte[64 * 1024 + 1]).contentType("application/octet-stream")
                .post("/api/2/things/demo:answering/inbox/messages/switch")
                .then().statusCode(413).contentType("application/problem+json");
        asAdmin().get("/api/commands/does-not-exist").then().statusCode(404).contentType("application/problem+json");
    }

    /** Requests as the realm's admin (a real Keycloak token); access rules have their own tests. */
    private static io.restassured.specification.RequestSpecification asAdmin() {
        return given().auth().oauth2(RealInfrastructure.token("admin"));
    }
}

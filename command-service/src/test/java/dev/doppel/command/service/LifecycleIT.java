package dev.doppel.command.service;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.doppel.command.RegisteredDevices;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.Topics;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;

/**
 * The life of a command with the devices' side played over Kafka (connection events and status steps,
 * as connectivity sends them): offline queueing and delivery in order on connect, expiry, answer
 * timeout, cancel, the per-device queue limit, and desired state carried to the device. With a real
 * MQTT device and restarts, the same is shown in system-tests.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class LifecycleIT {

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user)).contentType("application/json");
    }

    private static String send(String thingId, String subject, String ttl, String timeout) {
        return as("olivia").body("""
                {"thingId":"%s","subject":"%s","payload":{"n":"%s"},"ttl":"%s","timeout":"%s"}"""
                .formatted(thingId, subject, subject, ttl, timeout))
                .post("/api/commands").then().statusCode(202).body("status", equalTo("QUEUED")).extract().path("id");
    }

    private static void connect(KafkaProbe kafka, String thingId) {
        kafka.sendEvent(Topics.DEVICE_CONNECTIONS, thingId, EventTypes.DEVICE_CONNECTION_CHANGED, "/test",
                new DeviceConnectionChanged(UUID.randomUUID().toString(), thingId, -1, "mqtt", Instant.now()));
    }

    private static void step(KafkaProbe kafka, String id, String thingId, CommandStatus status) {
        kafka.sendEvent(Topics.COMMAND_STATUS, thingId, EventTypes.COMMAND_STATUS_CHANGED, "/test",
                new CommandStatusChanged(UUID.randomUUID().toString(), id, thingId, status, null, null, null, null,
                        Instant.now(), "test"));
    }

    private static List<CommandRequested> published(KafkaConsumer<String, byte[]> commands, String thingId, int n,
            Duration within) {
        List<CommandRequested> out = new ArrayList<>();
        long deadline = System.nanoTime() + within.toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(commands, x -> thingId.equals(x.key()),
                    Duration.ofMillis(500));
            if (r != null) {
                out.add(KafkaProbe.read(r, CommandRequested.class));
            }
        }
        return out;
    }

    private static List<CommandRequested> published(KafkaConsumer<String, byte[]> commands, String thingId, int n) {
        return published(commands, thingId, n, Duration.ofSeconds(20));
    }

    private static void awaitStatus(String id, String status) {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> as("olivia").get("/api/commands/" + id).then()
                .statusCode(200).body("status", equalTo(status)));
    }

    /** A new registered device. */
    private static String unique(String prefix) {
        String thing = unregistered(prefix);
        RegisteredDevices.register(thing);
        return thing;
    }

    private static String unregistered(String prefix) {
        return "demo:" + prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void queuedCommandsGoOutInSubmissionOrderWhenTheDeviceConnects() {
        String thing = unique("offline");
        List<String> ids = new ArrayList<>();
        for (String subject : List.of("first", "second", "third")) {
            ids.add(send(thing, subject, "1m", "30s"));
        }
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
            connect(kafka, thing);
            List<CommandRequested> out = published(commands, thing, 3);
            assertEquals(ids, out.stream().map(CommandRequested::commandId).toList());
            assertEquals(List.of("first", "second", "third"), out.stream().map(CommandRequested::subject).toList());
            assertNotNull(out.get(0).expiresAt(), "a queued command carries its expiry");
            // Acknowledged commands are not sent again on the next connect; the unacknowledged one is.
            step(kafka, ids.get(0), thing, CommandStatus.DELIVERED);
            step(kafka, ids.get(1), thing, CommandStatus.DELIVERED);
            awaitStatus(ids.get(1), "DELIVERED");
            connect(kafka, thing);
            List<CommandRequested> again = published(commands, thing, 2, Duration.ofSeconds(5));
            assertEquals(List.of(ids.get(2)), again.stream().map(CommandRequested::commandId).toList());
        }
    }

    @Test
    void aCommandWhoseTtlPassesBeforeDeliveryExpiresAndSaysSo() {
        String thing = unique("expire");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
            String id = send(thing, "brief", "1s", "30s");
            awaitStatus(id, "EXPIRED");
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.EXPIRED;
            }, Duration.ofSeconds(10));
            assertNotNull(r, "EXPIRED is an event on dt.command-status too");
            as("olivia").get("/api/commands/" + id).then().body("history.status", equalTo(List.of("QUEUED", "EXPIRED")));
            // Connecting later does not bring it back.
            try (KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
                connect(kafka, thing);
                assertNull(KafkaProbe.await(commands, x -> thing.equals(x.key()), Duration.ofSeconds(3)));
            }
        }
    }

    @Test
    void aDeliveredCommandWithoutAnAnswerTimesOut() {
        String thing = unique("silent");
        String id = send(thing, "ask", "1m", "2s");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            step(kafka, id, thing, CommandStatus.SENT);
            step(kafka, id, thing, CommandStatus.DELIVERED);
        }
        awaitStatus(id, "TIMED_OUT");
        as("olivia").get("/api/commands/" + id).then()
                .body("history.status", equalTo(List.of("QUEUED", "SENT", "DELIVERED", "TIMED_OUT")));
    }

    @Test
    void aQueuedCommandCanBeCancelledAndIsNotDeliveredAfterwards() {
        String thing = unique("cancel");
        String id = send(thing, "never", "1m", "30s");
        as("mallory").delete("/api/commands/" + id).then().statusCode(404);
        as("victor").delete("/api/commands/" + id).then().statusCode(403);
        as("olivia").delete("/api/commands/" + id).then().statusCode(200).body("status", equalTo("CANCELLED"));
        as("olivia").delete("/api/commands/" + id).then().statusCode(409)
                .body("type", equalTo("https://doppel.dev/problems/command-not-cancellable"));
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
            connect(kafka, thing);
            assertNull(KafkaProbe.await(commands, x -> thing.equals(x.key()), Duration.ofSeconds(3)));
        }
        // Once acknowledged by the device, a command cannot be cancelled.
        String delivered = send(thing, "taken", "1m", "30s");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            step(kafka, delivered, thing, CommandStatus.DELIVERED);
        }
        awaitStatus(delivered, "DELIVERED");
        as("olivia").delete("/api/commands/" + delivered).then().statusCode(409);
    }

    @Test
    void aFullQueueAnswers429AndStoresNothing() {
        String thing = unique("full");
        for (int i = 0; i < 5; i++) {
            send(thing, "c" + i, "1m", "30s");
        }
        as("olivia").body("{\"thingId\":\"" + thing + "\",\"subject\":\"one-too-many\",\"ttl\":\"1m\"}")
                .post("/api/commands").then().statusCode(429).contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/queue-full"));
        as("olivia").queryParam("thingId", thing).get("/api/commands").then().body("items.size()", equalTo(5));
        as("olivia").body("{\"thingId\":\"" + thing + "\",\"subject\":\"x\",\"ttl\":\"8d\"}").post("/api/commands")
                .then().statusCode(400).body("type", equalTo("https://doppel.dev/problems/invalid-ttl"));
        as("olivia").body("{\"thingId\":\"" + thing + "\",\"subject\":\"x\",\"ttl\":\"soon\"}").post("/api/commands")
                .then().statusCode(400).body("type", equalTo("https://doppel.dev/problems/invalid-ttl"));
    }

    @Test
    void theDesiredStateGoesToTheDeviceAndOnlyTheLatestWhileItIsOffline() throws Exception {
        // A twin's delta is pushed as it comes: the push is not an API request and is not checked against
        // the registry, so it goes out even to a thing the registry view does not know.
        String thing = unregistered("desired");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
            change(kafka, thing, 5, Map.of("lamp", Map.of("on", true)));
            List<CommandRequested> firstSent = published(commands, thing, 1);
            assertEquals(1, firstSent.size(), "the delta was not sent");
            CommandRequested first = firstSent.get(0);
            assertEquals("dt.desired", first.subject());
            assertEquals("{\"revision\":5,\"features\":{\"lamp\":{\"on\":true}}}",
                    new String(first.payload(), StandardCharsets.UTF_8));
            // While the device is away, newer desired writes replace the body of the one waiting.
            change(kafka, thing, 6, Map.of("lamp", Map.of("on", true, "level", 40)));
            change(kafka, thing, 7, Map.of("lamp", Map.of("on", true, "level", 70)));
            Thread.sleep(1500);
            connect(kafka, thing);
            List<CommandRequested> sent = published(commands, thing, 2, Duration.ofSeconds(5));
            assertEquals(1, sent.size(), "one desired-state command in flight per device: " + sent);
            assertEquals(first.commandId(), sent.get(0).commandId());
            assertEquals(Map.of("revision", 7, "features", Map.of("lamp", Map.of("on", true, "level", 70))),
                    KafkaProbe.JSON.readValue(sent.get(0).payload(), Map.class));
            // The device takes it and reports: the delta clears, nothing more is sent.
            step(kafka, first.commandId(), thing, CommandStatus.DELIVERED);
            change(kafka, thing, 8, Map.of());
            assertNull(KafkaProbe.await(commands, x -> thing.equals(x.key()), Duration.ofSeconds(3)));
            // A new desired value after that is a new command.
            change(kafka, thing, 9, Map.of("lamp", Map.of("level", 10)));
            List<CommandRequested> next = published(commands, thing, 1);
            assertEquals(1, next.size(), "the new delta was not sent");
            assertEquals("{\"revision\":9,\"features\":{\"lamp\":{\"level\":10}}}",
                    new String(next.get(0).payload(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aDesiredStateHandedOffToHonoDoesNotHoldBackTheNext() {
        // Hono's command API and a fleet's broker report SENT (handed off) and never DELIVERED.
        String thing = unregistered("desired-hono");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
            connect(kafka, thing);
            change(kafka, thing, 3, Map.of("lamp", Map.of("on", true)));
            List<CommandRequested> first = published(commands, thing, 1);
            assertEquals(1, first.size(), "the delta was not sent");
            kafka.sendEvent(Topics.COMMAND_STATUS, thing, EventTypes.COMMAND_STATUS_CHANGED, "/test",
                    new CommandStatusChanged(UUID.randomUUID().toString(), first.get(0).commandId(), thing,
                            CommandStatus.SENT, null, CommandStatusChanged.HANDED_OFF, null, null, Instant.now(), "hono"));
            awaitStatus(first.get(0).commandId(), "SENT");
            // A newer desired value goes out now, not once the first one's timer has run out.
            change(kafka, thing, 4, Map.of("lamp", Map.of("on", false)));
            // (Commands go out at least once: the connection, if read after a command was queued, sends
            // what waits once more. So the first may come again, and the next more than once.)
            List<CommandRequested> next = new ArrayList<>(published(commands, thing, 4, Duration.ofSeconds(10)).stream()
                    .filter(c -> !c.commandId().equals(first.get(0).commandId()))
                    .collect(java.util.stream.Collectors.toMap(CommandRequested::commandId, c -> c, (a, b) -> a,
                            java.util.LinkedHashMap::new)).values());
            assertEquals(1, next.size(), "the next desired state waited for a DELIVERED that never comes");
            assertEquals("{\"revision\":4,\"features\":{\"lamp\":{\"on\":false}}}",
                    new String(next.get(0).payload(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aChangeThatSaysItLeftTheDeltaAsItWasIsPassedOverUnread() {
        String thing = unregistered("delta-unchanged");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
            // Such a change is not even parsed (a report on a twin without desired state: most changes),
            // so even one that carries a delta sends nothing...
            change(kafka, thing, 2, Map.of("lamp", Map.of("on", true)),
                    KafkaProbe.header(TwinChanged.DELTA_HEADER, TwinChanged.DELTA_UNCHANGED));
            // ... while the next one, without the header, is read and its delta sent (the positive control).
            change(kafka, thing, 3, Map.of("lamp", Map.of("on", false)));
            List<CommandRequested> sent = published(commands, thing, 2, Duration.ofSeconds(10));
            assertEquals(1, sent.size(), "expected only the second change's delta: " + sent);
            assertEquals("{\"revision\":3,\"features\":{\"lamp\":{\"on\":false}}}",
                    new String(sent.get(0).payload(), StandardCharsets.UTF_8));
        }
    }

    private static void change(KafkaProbe kafka, String thing, long revision, Map<String, Object> delta,
            RecordHeader... headers) {
        kafka.sendEvent(Topics.TWIN_CHANGES, thing, EventTypes.TWIN_CHANGED, "/twin-service",
                new TwinChanged(UUID.randomUUID().toString(), thing, revision, revision - 1,
                        Map.of("features/lamp/desiredProperties", delta), Instant.now(), "test", delta), headers);
    }
}

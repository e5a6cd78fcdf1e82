package dev.doppel.command.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.command.RegisteredDevices;
import dev.doppel.command.service.CommandRetention;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The asynchronous commands API: 202 + Location, Idempotency-Key, listing by tenant, thing and status. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class CommandsApiIT {

    @Inject
    CommandRetention retention;

    @BeforeAll
    static void registerDevices() {
        RegisteredDevices.register("demo:async-1", "demo:async-2", "demo:async-3", "other:async-3", "demo:async-4");
    }

    @Test
    void endedCommandsAreRemovedAfterTheRetentionOpenOnesStay() {
        String ended = as("olivia").body(body("demo:async-4")).post("/api/commands").then().statusCode(202)
                .extract().path("id");
        as("olivia").delete("/api/commands/" + ended).then().statusCode(200).body("status", equalTo("CANCELLED"));
        String open = as("olivia").body(body("demo:async-4")).post("/api/commands").then().statusCode(202)
                .extract().path("id");
        // Kept while within the retention.
        retention.removeEndedBefore(Instant.now().minus(Duration.ofHours(1))).await().atMost(Duration.ofSeconds(10));
        as("olivia").get("/api/commands/" + ended).then().statusCode(200).body("status", equalTo("CANCELLED"));
        // Past it: the ended one goes, the open one stays, however old.
        long removed = retention.removeEndedBefore(Instant.now().plus(Duration.ofMinutes(1)))
                .await().atMost(Duration.ofSeconds(10));
        assertTrue(removed >= 1, "removed " + removed);
        as("olivia").get("/api/commands/" + ended).then().statusCode(404);
        as("olivia").get("/api/commands/" + open).then().statusCode(200).body("status", equalTo("QUEUED"));
    }

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user)).contentType("application/json");
    }

    private static String body(String thingId) {
        return "{\"thingId\":\"" + thingId + "\",\"subject\":\"switch\",\"payload\":{\"on\":true},\"timeout\":\"30s\"}";
    }

    @Test
    void sendingAnswers202WithTheCommandsLocationAndPublishesIt() {
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
            String id = as("olivia").body(body("demo:async-1")).post("/api/commands").then().statusCode(202)
                    .header("Location", org.hamcrest.Matchers.containsString("/api/commands/")).body("status", equalTo("QUEUED"))
                    .extract().path("id");
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(commands,
                    x -> id.equals(KafkaProbe.read(x, CommandRequested.class).commandId()), Duration.ofSeconds(10));
            assertTrue(r != null, "command not published");
            CommandRequested c = KafkaProbe.read(r, CommandRequested.class);
            assertEquals("{\"on\":true}", new String(c.payload(), StandardCharsets.UTF_8));
            assertEquals("application/json", c.contentType());
            as("olivia").get("/api/commands/" + id).then().statusCode(200).body("thingId", equalTo("demo:async-1"));
        }
    }

    @Test
    void theSameIdempotencyKeyGivesTheSameCommandEvenWhenRacing() throws Exception {
        String key = UUID.randomUUID().toString();
        List<CompletableFuture<String>> racing = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            racing.add(CompletableFuture.supplyAsync(() -> as("olivia").header(CommandsResource.IDEMPOTENCY_KEY, key)
                    .body(body("demo:async-2")).post("/api/commands").then().statusCode(202).extract().path("id")));
        }
        HashSet<String> ids = new HashSet<>();
        for (CompletableFuture<String> f : racing) {
            ids.add(f.get());
        }
        assertEquals(1, ids.size(), "one key, one command: " + ids);
        as("olivia").header(CommandsResource.IDEMPOTENCY_KEY, key).body(body("demo:async-2")).post("/api/commands")
                .then().statusCode(202).header("Idempotent-Replayed", "true")
                .body("id", equalTo(ids.iterator().next()));
        as("olivia").queryParam("thingId", "demo:async-2").get("/api/commands").then().statusCode(200)
                .body("items.size()", equalTo(1));
        // Keys belong to their caller: the admin's "same" key is another request.
        String adminId = as("admin").header(CommandsResource.IDEMPOTENCY_KEY, key).body(body("demo:async-2"))
                .post("/api/commands").then().statusCode(202).extract().path("id");
        assertNotEquals(ids.iterator().next(), adminId);
    }

    @Test
    void listingShowsOnlyTheCallersTenantsNewestFirst() {
        as("olivia").body(body("demo:async-3")).post("/api/commands").then().statusCode(202);
        String last = as("olivia").body(body("demo:async-3")).post("/api/commands").then().statusCode(202)
                .extract().path("id");
        as("mallory").body(body("other:async-3")).post("/api/commands").then().statusCode(202);
        as("olivia").queryParam("thingId", "demo:async-3").queryParam("status", "QUEUED").get("/api/commands")
                .then().statusCode(200).body("items.size()", equalTo(2)).body("items[0].id", equalTo(last));
        List<String> oliviaSees = as("olivia").queryParam("limit", 200).get("/api/commands").then().statusCode(200)
                .extract().path("items.thingId");
        assertTrue(oliviaSees.stream().allMatch(t -> t.startsWith("demo:")), oliviaSees.toString());
        as("mallory").queryParam("thingId", "demo:async-3").get("/api/commands").then().statusCode(404);
        as("victor").get("/api/commands").then().statusCode(200);
        as("victor").body(body("demo:async-3")).post("/api/commands").then().statusCode(403);
    }

    @Test
    void badCommandsAreProblemsAndStoreNothing() {
        as("olivia").body("{\"subject\":\"x\"}").post("/api/commands").then().statusCode(400)
                .contentType("application/problem+json");
        as("olivia").body("{\"thingId\":\"demo:a\",\"subject\":\"bad subject\"}").post("/api/commands")
                .then().statusCode(400).body("type", equalTo("https://doppel.dev/problems/invalid-subject"));
        as("olivia").body("{\"thingId\":\"demo:a\",\"subject\":\"x\",\"timeout\":\"0\"}").post("/api/commands")
                .then().statusCode(400).body("type", equalTo("https://doppel.dev/problems/invalid-timeout"));
        as("olivia").body("{\"thingId\":\"demo:a\",\"subject\":\"x\",\"payload\":\"" + "y".repeat(70_000) + "\"}")
                .post("/api/commands").then().statusCode(413);
        as("olivia").queryParam("status", "SOMETIMES").get("/api/commands").then().statusCode(400);
        as("olivia").queryParam("thingId", "demo:a").get("/api/commands").then().body("items.size()", equalTo(0));
    }
}

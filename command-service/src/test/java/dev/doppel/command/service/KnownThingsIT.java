package dev.doppel.command.service;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.command.RegisteredDevices;
import dev.doppel.command.messaging.RegisteredThingsView;
import dev.doppel.command.rest.InboxResource;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;

/**
 * Commands go only to registered devices, on every way in (REST, Ditto's inbox, GraphQL), judged by each
 * instance's view of the registry's topic {@code dt.devices}: an unknown thing is a 404 problem and leaves
 * nothing behind, a device registered a moment ago is known at once, a removed one is refused, and a new
 * instance rebuilds the view from the topic.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class KnownThingsIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static final String THING_NOT_FOUND = "https://doppel.dev/problems/thing-not-found";

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user)).contentType("application/json");
    }

    private static String thing(String prefix) {
        return "demo:" + prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static ValidatableResponse post(String thingId) {
        return as("olivia").body("{\"thingId\":\"" + thingId + "\",\"subject\":\"switch\",\"payload\":{\"on\":true}}")
                .post("/api/commands").then();
    }

    private static ValidatableResponse inbox(String thingId, String timeout) {
        return as("olivia").body("{\"on\":true}")
                .post("/api/2/things/" + thingId + "/inbox/messages/switch?timeout=" + timeout).then();
    }

    private static ValidatableResponse sendCommand(String thingId) {
        return as("olivia").body(Map.of("query",
                "mutation { sendCommand(thingId: \"" + thingId + "\", subject: \"switch\", json: {on: true}) { id status } }"))
                .post("/graphql").then().statusCode(200);
    }

    @Test
    void aThingThatIsNotRegisteredIsA404ProblemOnEveryWayInAndNothingIsStored() {
        String unknown = thing("unknown");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
            post(unknown).statusCode(404).contentType("application/problem+json")
                    .body("type", equalTo(THING_NOT_FOUND)).body("status", equalTo(404));
            inbox(unknown, "10s").statusCode(404).contentType("application/problem+json")
                    .body("type", equalTo(THING_NOT_FOUND))
                    .header(InboxResource.COMMAND_ID_HEADER, nullValue());
            inbox(unknown, "0").statusCode(404).contentType("application/problem+json")
                    .body("type", equalTo(THING_NOT_FOUND));
            sendCommand(unknown).body("data.sendCommand", nullValue())
                    .body("errors[0].extensions.problem.type", equalTo(THING_NOT_FOUND))
                    .body("errors[0].extensions.problem.status", equalTo(404));

            as("olivia").queryParam("thingId", unknown).get("/api/commands").then().statusCode(200)
                    .body("items.size()", equalTo(0));
            assertNull(KafkaProbe.await(commands, r -> unknown.equals(r.key()), Duration.ofSeconds(2)),
                    "a refused command must not reach the devices' side");
        }
        given().get(management + "metrics").then().statusCode(200)
                .body(org.hamcrest.Matchers.containsString("doppel_commands_rejected_total{reason=\"unknown-thing\"}"));
    }

    @Test
    void aDeviceRegisteredAMomentAgoTakesCommandsAtOnce() {
        // No pause between registration and command: the view may not have read the registration yet.
        for (int i = 0; i < 3; i++) {
            String viaRest = thing("fresh-rest");
            RegisteredDevices.register(viaRest);
            post(viaRest).statusCode(202).body("status", equalTo("QUEUED"));

            String viaInbox = thing("fresh-inbox");
            RegisteredDevices.register(viaInbox);
            inbox(viaInbox, "0").statusCode(202).body("status", equalTo("QUEUED"));

            String viaGraphQL = thing("fresh-gql");
            RegisteredDevices.register(viaGraphQL);
            sendCommand(viaGraphQL).body("errors", nullValue()).body("data.sendCommand.status", equalTo("QUEUED"));
        }
    }

    @Test
    void aDeviceRemovedFromTheRegistryIsRefusedAfterwards() {
        String removed = thing("removed");
        String compacted = thing("tombstoned");
        RegisteredDevices.register(removed, compacted);
        String before = inbox(removed, "0").statusCode(202).extract().header(InboxResource.COMMAND_ID_HEADER);
        inbox(compacted, "0").statusCode(202);

        RegisteredDevices.deregister(removed);
        RegisteredDevices.tombstone(compacted);
        // A hit is answered from the view without asking the broker, so the removal shows once the view read it.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> inbox(removed, "0").statusCode(404)
                .body("type", equalTo(THING_NOT_FOUND)));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> post(compacted).statusCode(404)
                .body("type", equalTo(THING_NOT_FOUND)));
        sendCommand(removed).body("errors[0].extensions.problem.type", equalTo(THING_NOT_FOUND));
        // Its earlier commands stay readable.
        as("olivia").get("/api/commands/" + before).then().statusCode(200).body("thingId", equalTo(removed));

        // Registered again: it takes commands again.
        RegisteredDevices.register(removed);
        inbox(removed, "0").statusCode(202);
    }

    /**
     * The read-your-writes step, made certain: an instance that has not read a registration yet (here: its
     * consumer has not even started) answers only once it has read up to where the topic ended at the request.
     */
    @Test
    void aViewThatIsBehindWaitsUntilItHasReadTheRegistrationsMadeBeforeTheRequest() throws Exception {
        String registered = thing("behind");
        RegisteredDevices.register(registered);
        try (RegisteredThingsView behind = new RegisteredThingsView(
                Map.of("bootstrap.servers", RealInfrastructure.kafkaBootstrapServers()), Topics.DEVICES,
                KafkaProbe.JSON, e -> {
                })) {
            CompletableFuture<Void> caughtUp = behind.awaitLatest(System.nanoTime(), Duration.ofSeconds(20))
                    .toCompletableFuture();
            assertThrows(TimeoutException.class, () -> caughtUp.get(500, TimeUnit.MILLISECONDS),
                    "answered before it had read anything");
            assertFalse(behind.contains(registered));
            behind.start();
            caughtUp.get(20, TimeUnit.SECONDS);
            assertTrue(behind.contains(registered), "caught up, yet the registration made before is missing");
        }
    }

    @Test
    void aNewInstanceRebuildsTheViewFromTheRegistrysTopic() {
        String kept = thing("kept");
        String removed = thing("gone");
        String compacted = thing("compacted");
        RegisteredDevices.register(kept, removed, compacted);
        RegisteredDevices.deregister(removed);
        RegisteredDevices.tombstone(compacted);

        try (RegisteredThingsView restarted = new RegisteredThingsView(
                Map.of("bootstrap.servers", RealInfrastructure.kafkaBootstrapServers()), Topics.DEVICES,
                KafkaProbe.JSON, e -> {
                })) {
            assertFalse(restarted.isCaughtUp(), "not ready before it read anything");
            restarted.start();
            await().atMost(Duration.ofSeconds(20)).until(restarted::isCaughtUp);
            assertTrue(restarted.contains(kept), "a registered device is known after a restart");
            assertFalse(restarted.contains(removed), "a removed device is not");
            assertFalse(restarted.contains(compacted), "a tombstoned device is not");
        }
        given().get(management + "health/ready").then().statusCode(200)
                .body("checks.name", hasItem("registered-things"));
    }
}

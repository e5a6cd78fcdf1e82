package dev.doppel.twin.rest;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.devstack.testing.AccessFixtures;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Live changes over server-sent events, fed from dt.twin-changes, scoped to the caller's tenants. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class LiveChangesIT {

    @TestHTTPResource("/api/2/things")
    URL things;

    /** What {@link #openWith} puts in the queue when the server ends the stream. */
    private static final String ENDED = "(stream ended)";

    /** Opens the stream and returns the data of each event as it comes. */
    private BlockingQueue<String> open(String user, String query) throws Exception {
        return openWith(RealInfrastructure.token(user), query);
    }

    /** With the token as a bearer header, or with none (a browser's EventSource, signed in by a ticket in the query). */
    private BlockingQueue<String> openWith(String token, String query) throws Exception {
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(things + (query == null ? "" : "?" + query)))
                .header("Accept", "text/event-stream");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<Stream<String>> response = HttpClient.newHttpClient()
                .sendAsync(request.build(), HttpResponse.BodyHandlers.ofLines()).get(10, TimeUnit.SECONDS);
        assertEquals(200, response.statusCode());
        Thread.ofVirtual().start(() -> {
            try {
                response.body().filter(l -> l.startsWith("data:")).forEach(l -> events.add(l.substring(5).trim()));
            } catch (RuntimeException closed) {
                // the connection went away: the stream ended all the same
            }
            events.add(ENDED);
        });
        Thread.sleep(1000); // the subscription is in place once the response started
        return events;
    }

    private static void report(KafkaProbe kafka, String thingId, double temperature) {
        TelemetryReceived r = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(thingId), "telemetry",
                Map.of("telemetry", Map.of("temperature", temperature)), null, Instant.now(), "mqtt");
        kafka.sendEvent(Topics.DEVICE_TELEMETRY, thingId, r.type(), "/test", r);
    }

    @Test
    void streamsTheChangesOfTheCallersTenantsOnlyWhicheverReplicaMadeThem() throws Exception {
        BlockingQueue<String> events = open("olivia", null);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            report(kafka, "other:live-1", 1.0);
            report(kafka, "demo:live-1", 2.0);
            String first = events.poll(20, TimeUnit.SECONDS);
            assertNotNull(first, "no change streamed");
            assertTrue(first.contains("\"thingId\":\"demo:live-1\""), first);
            assertTrue(first.contains("features/telemetry/properties/temperature"), first);
            // A change published by another twin-service replica reaches this one's stream too.
            kafka.sendEvent(Topics.TWIN_CHANGES, "demo:elsewhere", EventTypes.TWIN_CHANGED, "/twin-service",
                    new TwinChanged(UUID.randomUUID().toString(), "demo:elsewhere", 7, 6,
                            Map.of("attributes/x", 1), Instant.now(), "test", Map.of()));
            String second = events.poll(20, TimeUnit.SECONDS);
            assertNotNull(second, "a change from another replica was not streamed");
            assertTrue(second.contains("\"thingId\":\"demo:elsewhere\""), second);
            assertTrue(events.stream().noneMatch(e -> e.contains("other:")), events.toString());
        }
    }

    @Test
    void anRqlFilterNarrowsTheStream() throws Exception {
        BlockingQueue<String> events = open("admin", "filter=gt(features/telemetry/properties/temperature,30)");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            report(kafka, "demo:live-cold", 20.0);
            report(kafka, "demo:live-hot", 40.0);
            String first = events.poll(20, TimeUnit.SECONDS);
            assertNotNull(first);
            assertTrue(first.contains("demo:live-hot"), first);
        }
    }

    @Test
    void fieldsSelectWhichChangesAreStreamed() throws Exception {
        BlockingQueue<String> events = open("admin", "ids=demo:live-fields&fields=attributes/site");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            report(kafka, "demo:live-fields", 5.0); // a telemetry change only: not selected, no event
            kafka.sendEvent(Topics.TWIN_CHANGES, "demo:live-fields", EventTypes.TWIN_CHANGED, "/twin-service",
                    new TwinChanged(UUID.randomUUID().toString(), "demo:live-fields", 9, 8,
                            Map.of("attributes/site", "north", "attributes/floor", 2), Instant.now(), "test",
                            Map.of()));
            String first = events.poll(20, TimeUnit.SECONDS);
            assertNotNull(first, "the selected change was not streamed");
            assertTrue(first.contains("\"attributes/site\":\"north\""), first);
            assertTrue(!first.contains("attributes/floor") && !first.contains("temperature"), first);
        }
    }

    @Test
    void aStreamEndsWhenItsTokenExpiresWhileOneWithAValidTokenGoesOn() throws Exception {
        // A token that expires 2 s after it was issued, and the same user's stream with a long-lived one.
        BlockingQueue<String> expiring = openWith(AccessFixtures.shortLived(), "ids=demo:live-exp");
        BlockingQueue<String> valid = open("admin", "ids=demo:live-exp");
        assertEquals(ENDED, expiring.poll(20, TimeUnit.SECONDS), "the stream outlived its token");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            report(kafka, "demo:live-exp", 3.0);
            String change = valid.poll(20, TimeUnit.SECONDS);
            assertNotNull(change, "the stream with a valid token got no change");
            assertTrue(change.contains("demo:live-exp"), change);
        }
        assertTrue(expiring.isEmpty(), "events after the end: " + expiring);
        // Opened again with the expired token: refused.
        given().auth().oauth2(AccessFixtures.expired()).header("Accept", "text/event-stream").get("/api/2/things")
                .then().statusCode(401);
    }

    @Test
    void theStreamNeedsAToken() {
        given().header("Accept", "text/event-stream").get("/api/2/things").then().statusCode(401);
        given().auth().oauth2(RealInfrastructure.token("admin")).header("Accept", "text/event-stream")
                .queryParam("filter", "eq(").get("/api/2/things").then().statusCode(400);
    }

    private static String ticket(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user)).post("/api/2/live-tickets").then().statusCode(201)
                .header("Cache-Control", "no-store").extract().path("ticket");
    }

    @Test
    void aLiveTicketOpensTheStreamOnceWithItsTokensTenants() throws Exception {
        String ticket = ticket("olivia");
        BlockingQueue<String> events = openWith(null, "ticket=" + ticket);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            report(kafka, "other:live-ticket", 1.0);
            report(kafka, "demo:live-ticket", 2.0);
            String first = events.poll(20, TimeUnit.SECONDS);
            assertNotNull(first, "no change streamed to the stream a ticket opened");
            assertTrue(first.contains("\"thingId\":\"demo:live-ticket\""), first);
            assertTrue(events.stream().noneMatch(e -> e.contains("other:")), events.toString());
        }
        // Used: it opens nothing again, nor does a made-up one, nor a ticket on another path.
        given().header("Accept", "text/event-stream").queryParam("ticket", ticket).get("/api/2/things")
                .then().statusCode(401);
        given().header("Accept", "text/event-stream").queryParam("ticket", "A".repeat(43)).get("/api/2/things")
                .then().statusCode(401);
        given().queryParam("ticket", ticket("olivia")).get("/api/2/things/demo:live-ticket").then().statusCode(401);
        // Only a signed-in caller gets one.
        given().post("/api/2/live-tickets").then().statusCode(401);
    }
}

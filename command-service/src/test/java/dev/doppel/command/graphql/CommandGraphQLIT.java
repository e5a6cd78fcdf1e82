package dev.doppel.command.graphql;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.RegisteredDevices;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** command-service's GraphQL: sendCommand, command, commands, and commandStatusChanged over graphql-ws. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class CommandGraphQLIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/graphql")
    URI graphql;

    private static ValidatableResponse gql(String user, String query) {
        return given().auth().oauth2(RealInfrastructure.token(user)).contentType("application/json")
                .body(Map.of("query", query)).post("/graphql").then().statusCode(200);
    }

    @Test
    void sendCommandPublishesItAndItCanBeReadBack() {
        String thing = "demo:gql-" + UUID.randomUUID().toString().substring(0, 8);
        RegisteredDevices.register(thing);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> commands = kafka.subscribe(Topics.COMMANDS)) {
            String id = gql("olivia", """
                    mutation { sendCommand(thingId: "%s", subject: "switch", json: {on: true}, ttl: "10m") {
                      id status ttlMs history { status } } }""".formatted(thing))
                    .body("errors", nullValue())
                    .body("data.sendCommand.status", equalTo("QUEUED"))
                    .body("data.sendCommand.ttlMs", equalTo(600000))
                    .extract().path("data.sendCommand.id");
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(commands, x -> thing.equals(x.key()), Duration.ofSeconds(10));
            assertNotNull(r, "not published");
            CommandRequested c = KafkaProbe.read(r, CommandRequested.class);
            assertEquals(id, c.commandId());
            assertEquals("{\"on\":true}", new String(c.payload(), StandardCharsets.UTF_8));
            gql("victor", "{ command(id: \"%s\") { thingId subject status } }".formatted(id))
                    .body("data.command.thingId", equalTo(thing)).body("data.command.subject", equalTo("switch"));
            gql("mallory", "{ command(id: \"%s\") { thingId } }".formatted(id)).body("data.command", nullValue());
            gql("olivia", "{ commands(thingId: \"%s\", status: QUEUED) { id } }".formatted(thing))
                    .body("data.commands.id", equalTo(java.util.List.of(id)));
        }
    }

    @Test
    void theRulesOfTheRestApiHold() {
        gql("victor", "mutation { sendCommand(thingId: \"demo:x\", subject: \"switch\") { id } }")
                .body("errors[0].extensions.problem.status", equalTo(403));
        gql("olivia", "mutation { sendCommand(thingId: \"demo:x\", subject: \"bad subject!\") { id } }")
                .body("errors[0].extensions.problem.type", equalTo("https://doppel.dev/problems/invalid-subject"));
        gql("olivia", "mutation { sendCommand(thingId: \"other:x\", subject: \"switch\") { id } }")
                .body("errors[0].extensions.problem.status", equalTo(404));
        gql("olivia", "mutation { sendCommand(thingId: \"demo:x\", subject: \"s\", ttl: \"9d\") { id } }")
                .body("errors[0].extensions.problem.type", equalTo("https://doppel.dev/problems/invalid-ttl"));
    }

    /** Signed in by the upgrade's header, or as a browser must, by connection_init's payload. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @SuppressWarnings("unchecked")
    void commandStatusChangedStreamsEachStepOfAThing(boolean signInWithConnectionInit) throws Exception {
        String thing = "demo:gql-sub-" + UUID.randomUUID().toString().substring(0, 8);
        BlockingQueue<Map<String, Object>> messages = new LinkedBlockingQueue<>();
        String bearer = "Bearer " + RealInfrastructure.token("olivia");
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().subprotocols("graphql-transport-ws");
        if (!signInWithConnectionInit) {
            builder.header("Authorization", bearer);
        }
        WebSocket ws = builder
                .buildAsync(URI.create(graphql.toString().replaceFirst("^http", "ws")), new WebSocket.Listener() {
                    private final StringBuilder text = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                        text.append(data);
                        if (last) {
                            try {
                                messages.add(JSON.readValue(text.toString(), Map.class));
                            } catch (java.io.IOException e) {
                                throw new IllegalStateException(e);
                            }
                            text.setLength(0);
                        }
                        socket.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        ws.sendText(JSON.writeValueAsString(Map.of("type", "connection_init", "payload",
                signInWithConnectionInit ? Map.of("Authorization", bearer) : Map.of())), true).get();
        assertEquals("connection_ack", messages.poll(10, TimeUnit.SECONDS).get("type"));
        ws.sendText(JSON.writeValueAsString(Map.of("id", "1", "type", "subscribe", "payload", Map.of("query",
                "subscription { commandStatusChanged(thingId: \"" + thing + "\") { commandId status source } }"))), true)
                .get();
        String id = UUID.randomUUID().toString();
        String probe = "probe-" + UUID.randomUUID();
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            // graphql-ws does not acknowledge a subscription: a probe step of this thing, sent until one
            // arrives, shows that it is in place (later probes are skipped below).
            boolean inPlace = false;
            for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    !inPlace && System.nanoTime() < deadline;) {
                kafka.sendEvent(Topics.COMMAND_STATUS, thing, EventTypes.COMMAND_STATUS_CHANGED, "/test",
                        new CommandStatusChanged(UUID.randomUUID().toString(), probe, thing, CommandStatus.SENT, null,
                                null, null, null, Instant.now(), "test"));
                for (Map<String, Object> m = messages.poll(2, TimeUnit.SECONDS); m != null && !inPlace;
                        m = messages.poll(100, TimeUnit.MILLISECONDS)) {
                    inPlace = m.toString().contains(probe);
                }
            }
            assertTrue(inPlace, "the subscription never delivered the probe step");
            kafka.sendEvent(Topics.COMMAND_STATUS, "demo:someone-else", EventTypes.COMMAND_STATUS_CHANGED, "/test",
                    new CommandStatusChanged(UUID.randomUUID().toString(), id, "demo:someone-else",
                            CommandStatus.SENT, null, null, null, null, Instant.now(), "test"));
            kafka.sendEvent(Topics.COMMAND_STATUS, thing, EventTypes.COMMAND_STATUS_CHANGED, "/test",
                    new CommandStatusChanged(UUID.randomUUID().toString(), id, thing, CommandStatus.DELIVERED, null,
                            null, null, null, Instant.now(), "mqtt"));
        }
        Map<String, Object> next = messages.poll(20, TimeUnit.SECONDS);
        while (next != null && next.toString().contains(probe)) {
            next = messages.poll(20, TimeUnit.SECONDS);
        }
        assertNotNull(next, "no status streamed");
        assertEquals("next", next.get("type"), next.toString());
        Map<String, Object> change = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) next
                .get("payload")).get("data")).get("commandStatusChanged");
        assertEquals(Map.of("commandId", id, "status", "DELIVERED", "source", "mqtt"), change);
        assertTrue(messages.stream().allMatch(m -> m.toString().contains(probe)), messages.toString());
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }
}

package dev.doppel.twin.graphql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.AccessFixtures;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code twinChanged} over graphql-ws (the graphql-transport-ws protocol) with the JDK's WebSocket
 * client: a change that arrives as a Kafka event reaches the subscriber, within the subscriber's
 * tenants and filter.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class TwinSubscriptionIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/graphql")
    URI graphql;

    /** A graphql-ws session: the server's messages, parsed, as they come. */
    private record Session(WebSocket socket, BlockingQueue<Map<String, Object>> messages) {

        @SuppressWarnings("unchecked")
        Map<String, Object> next(String type) throws InterruptedException {
            return next(type, 20);
        }

        /** The next message of this type within the time given (pings and pongs in between are skipped). */
        Map<String, Object> next(String type, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                Map<String, Object> m = messages.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertNotNull(m, "no '" + type + "' message from the server");
                if (type.equals(m.get("type"))) {
                    return m;
                }
                if (!"ping".equals(m.get("type")) && !"pong".equals(m.get("type"))) {
                    throw new AssertionError("expected '" + type + "', got " + m);
                }
            }
        }

        void send(Map<String, Object> message) throws Exception {
            socket.sendText(JSON.writeValueAsString(message), true).get(5, TimeUnit.SECONDS);
        }
    }

    private Session connect(String user) throws Exception {
        return connectWith(user == null ? null : RealInfrastructure.token(user));
    }

    private Session connectWith(String token) throws Exception {
        return open(token, Map.of());
    }

    /** Signs in as a browser does: no header on the upgrade, the token in connection_init's payload. */
    private Session signInWithConnectionInit(String token) throws Exception {
        return open(null, Map.of("Authorization", "Bearer " + token));
    }

    /** Opens a socket, with the token as the upgrade's header (or none), and sends connection_init with this payload. */
    private Session open(String token, Map<String, Object> initPayload) throws Exception {
        Session session = openSocket(token);
        session.send(Map.of("type", "connection_init", "payload", initPayload));
        session.next("connection_ack");
        return session;
    }

    private Session openSocket(String token) throws Exception {
        BlockingQueue<Map<String, Object>> messages = new LinkedBlockingQueue<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            @SuppressWarnings("unchecked")
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    try {
                        messages.add(JSON.readValue(text.toString(), Map.class));
                    } catch (java.io.IOException e) {
                        messages.add(Map.of("type", "unparseable", "text", text.toString()));
                    }
                    text.setLength(0);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                messages.add(Map.of("type", "closed", "code", statusCode, "reason", String.valueOf(reason)));
                return null;
            }
        };
        URI ws = URI.create(graphql.toString().replaceFirst("^http", "ws"));
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().subprotocols("graphql-transport-ws");
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return new Session(builder.buildAsync(ws, listener).get(10, TimeUnit.SECONDS), messages);
    }

    private static void subscribe(Session s, String id, String query) throws Exception {
        s.send(Map.of("id", id, "type", "subscribe", "payload", Map.of("query", query)));
    }

    /**
     * The protocol does not acknowledge a subscription: reports a probe twin the subscription selects,
     * a newer value each time, until one of its changes arrives. From then on the subscription is in
     * place; later changes of the probe are skipped by {@link #nextChange}.
     */
    private static void awaitInPlace(Session s, KafkaProbe kafka, String probe, double temperature) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int i = 0; System.nanoTime() < deadline; i++) {
            report(kafka, probe, temperature + i);
            Map<String, Object> m = s.messages().poll(2, TimeUnit.SECONDS);
            while (m != null) {
                if ("next".equals(m.get("type")) && probe.equals(change(m).get("thingId"))) {
                    return;
                }
                m = s.messages().poll(100, TimeUnit.MILLISECONDS);
            }
        }
        throw new AssertionError("the subscription never delivered the probe " + probe);
    }

    /** The next change of a thing other than the probe. */
    private static Map<String, Object> nextChange(Session s, String probe) throws InterruptedException {
        while (true) {
            Map<String, Object> next = s.next("next");
            if (!probe.equals(change(next).get("thingId"))) {
                return next;
            }
        }
    }

    private static void report(KafkaProbe kafka, String thingId, double temperature) {
        TelemetryReceived r = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(thingId), "telemetry",
                Map.of("telemetry", Map.of("temperature", temperature)), null, Instant.now(), "mqtt");
        kafka.sendEvent(Topics.DEVICE_TELEMETRY, thingId, r.type(), "/test", r);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> change(Map<String, Object> next) {
        return (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) next.get("payload")).get("data"))
                .get("twinChanged");
    }

    @Test
    void aChangeFromKafkaReachesTheSubscriberWithinItsTenants() throws Exception {
        Session s = connect("olivia");
        subscribe(s, "1", "subscription { twinChanged { thingId revision changes delta } }");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            awaitInPlace(s, kafka, "demo:gq-sub-probe", 10.0);
            report(kafka, "other:gq-sub", 1.0);
            report(kafka, "demo:gq-sub", 21.5);
            Map<String, Object> next = nextChange(s, "demo:gq-sub-probe");
            assertEquals("1", next.get("id"));
            Map<String, Object> change = change(next);
            assertEquals("demo:gq-sub", change.get("thingId"), next.toString());
            assertEquals(Map.of("features/telemetry/properties/temperature", 21.5), change.get("changes"));
            assertTrue(s.messages().stream().noneMatch(m -> m.toString().contains("other:")), s.messages().toString());
        }
        s.send(Map.of("id", "1", "type", "complete"));
        s.socket().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    @Test
    void anRqlFilterNarrowsTheSubscription() throws Exception {
        Session s = connect("admin");
        subscribe(s, "hot", """
                subscription { twinChanged(filter: "gt(features/telemetry/properties/temperature,30)") { thingId } }""");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            awaitInPlace(s, kafka, "demo:gq-sub-probe-hot", 50.0);
            report(kafka, "demo:gq-sub-cold", 20.0);
            report(kafka, "demo:gq-sub-hot", 40.0);
            assertEquals("demo:gq-sub-hot", change(nextChange(s, "demo:gq-sub-probe-hot")).get("thingId"));
        }
        s.socket().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    @Test
    void aSubscriptionEndsWhenItsTokenExpires() throws Exception {
        Session expiring = connectWith(AccessFixtures.shortLived()); // expires 2 s after it was issued
        subscribe(expiring, "exp", "subscription { twinChanged(ids: [\"demo:gq-exp\"]) { thingId } }");
        Session valid = connect("admin");
        subscribe(valid, "ok", "subscription { twinChanged(ids: [\"demo:gq-exp\"]) { thingId } }");
        // The subscription completes, or the server closes the socket (Quarkus does at the identity's expiry).
        Map<String, Object> end = expiring.messages().poll(20, TimeUnit.SECONDS);
        while (end != null && ("ping".equals(end.get("type")) || "pong".equals(end.get("type")))) {
            end = expiring.messages().poll(20, TimeUnit.SECONDS);
        }
        assertNotNull(end, "the subscription outlived its token");
        assertTrue("closed".equals(end.get("type")) || "complete".equals(end.get("type")) && "exp".equals(end.get("id")),
                "expected the end of the subscription, got " + end);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            // The same subscription with a valid token still delivers.
            awaitInPlace(valid, kafka, "demo:gq-exp", 1.0);
        }
        assertTrue(expiring.messages().stream().noneMatch(m -> "next".equals(m.get("type"))),
                "changes after the end: " + expiring.messages());
        valid.socket().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    @Test
    @SuppressWarnings("unchecked")
    void aBadFilterEndsTheSubscriptionWithItsProblem() throws Exception {
        Session s = connect("admin");
        s.send(Map.of("id", "bad", "type", "subscribe",
                "payload", Map.of("query", "subscription { twinChanged(filter: \"eq(\") { thingId } }")));
        Map<String, Object> answer = s.messages().poll(20, TimeUnit.SECONDS);
        assertNotNull(answer);
        String text = answer.toString();
        assertTrue(text.contains("RQL error at position"), text);
        assertTrue(text.contains("invalid-filter"), text);
        s.socket().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    @Test
    void aBrowserSignsInWithConnectionInit() throws Exception {
        Session s = signInWithConnectionInit(RealInfrastructure.token("olivia"));
        subscribe(s, "1", "subscription { twinChanged { thingId changes } }");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            awaitInPlace(s, kafka, "demo:gq-init-probe", 10.0);
            report(kafka, "other:gq-init", 1.0);
            report(kafka, "demo:gq-init", 22.5);
            Map<String, Object> change = change(nextChange(s, "demo:gq-init-probe"));
            assertEquals("demo:gq-init", change.get("thingId"));
            assertEquals(Map.of("features/telemetry/properties/temperature", 22.5), change.get("changes"));
            // olivia's tenants hold for a socket signed in this way too
            assertTrue(s.messages().stream().noneMatch(m -> m.toString().contains("other:")), s.messages().toString());
        }
        s.socket().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    @Test
    void aSocketThatDoesNotSignInGetsOnlyA401() throws Exception {
        Session signedIn = signInWithConnectionInit(RealInfrastructure.token("admin"));
        subscribe(signedIn, "ok", "subscription { twinChanged(ids: [\"demo:gq-anon\"]) { thingId } }");
        Session anonymous = open(null, Map.of());
        subscribe(anonymous, "anon", "subscription { twinChanged(ids: [\"demo:gq-anon\"]) { thingId } }");
        anonymous.send(Map.of("id", "q", "type", "subscribe",
                "payload", Map.of("query", "{ twin(id: \"demo:gq-anon\") { thingId } }")));
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            // Positive control on the same path: the signed-in socket receives the twin's change.
            awaitInPlace(signedIn, kafka, "demo:gq-anon", 1.0);
        }
        // Each operation is answered with its error (a result with errors and no data), nothing more.
        for (String id : java.util.List.of("anon", "q")) {
            Map<String, Object> answer = anonymous.messages().stream().filter(m -> id.equals(m.get("id")))
                    .findFirst().orElseThrow(() -> new AssertionError("no answer to " + id + ": " + anonymous.messages()));
            String text = answer.toString();
            assertTrue(text.contains("unauthenticated") && text.contains("status=401"), text);
            assertTrue(text.contains("data={twinChanged=null}") || text.contains("data={twin=null}")
                    || !text.contains("data="), text);
        }
        assertTrue(anonymous.messages().stream().noneMatch(m -> m.toString().contains("thingId=")),
                "an anonymous socket received data: " + anonymous.messages());
        signedIn.socket().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        anonymous.socket().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    @Test
    void aTokenOfAnotherRealmInConnectionInitClosesTheSocket() throws Exception {
        Session forged = openSocket(null);
        forged.send(Map.of("type", "connection_init", "payload", Map.of("Authorization",
                "Bearer " + AccessFixtures.otherRealm())));
        Map<String, Object> answer = forged.messages().poll(20, TimeUnit.SECONDS);
        assertNotNull(answer, "no answer to a token of another realm");
        assertEquals("closed", answer.get("type"), "a token of another realm was acknowledged: " + answer);
        assertTrue(forged.messages().stream().noneMatch(m -> "connection_ack".equals(m.get("type"))),
                forged.messages().toString());
    }
}

package dev.doppel.connectivity.adapter.mqtt;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.testing.Devices;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.EventLoopLag;
import dev.doppel.devstack.testing.Hostile;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.LogWatch;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.Test;

/**
 * Hostile MQTT 5 through a client library (Eclipse Paho's MQTT 5 client), from a fixed seed: 10,000
 * PUBLISHes and 1,000 SUBSCRIBEs of a logged-in device, well-formed on the wire but hostile in
 * what they say: topics of other devices and tenants, unknown and odd topics, QoS 2, properties
 * (content types, payload format indicators over bytes that are not UTF-8, hundreds of user
 * properties, response topics, correlation data, expiry, topic aliases), payloads that are not JSON,
 * nest deep, carry thousands of keys or pass the size limit; and subscriptions to other devices'
 * command topics, wildcards and shared subscriptions. {@link MqttFuzzIT} breaks the packets
 * themselves over a raw socket.
 *
 * <p>Each JSON payload carries a marker. Afterwards: every answer was an MQTT 5 reason code and
 * none an unspecified or implementation error; every report acknowledged with success is in Kafka,
 * and no report that was refused is; nothing reached Kafka in the name of another device; no event
 * loop was blocked; nothing was logged as an error; the service is ready and another device still
 * reports (the positive control, read on the same topic before the checks that nothing else came).
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class Mqtt5ClientFuzzIT {

    private static final int PUBLISHES = 10_000;
    private static final int SUBSCRIBES = 1_000;
    private static final int CONNECTIONS = 8;
    private static final String PASSWORD = "mqtt5-fuzz-password";
    private static final String FUZZER = "mqtt5-fuzz";
    private static final String SENTINEL = "mqtt5-fuzz-sentinel";
    /** Topics on which the fuzz device reports as itself: a success there must reach Kafka. */
    private static final Set<String> OWN_REPORTS = Set.of("telemetry", "t", "telemetry/demo/" + FUZZER,
            "t/demo/" + FUZZER, "telemetry//" + FUZZER);
    /** Reason codes that say nothing about why: the server failed, it did not refuse. */
    private static final Set<Integer> SERVER_FAILURES = Set.of(0x80, 0x83);

    @Inject
    MqttAdapter adapter;

    @Inject
    Vertx vertx;

    @TestHTTPResource(value = "", management = true)
    URL management;

    private final Map<String, Integer> outcomes = new ConcurrentSkipListMap<>();
    private final Set<Integer> acceptedReports = ConcurrentHashMap.newKeySet();
    private final Set<Integer> refused = ConcurrentHashMap.newKeySet();
    /** How each marked PUBLISH was answered. */
    private final Map<Integer, String> answers = new ConcurrentHashMap<>();

    /** One thing a connection does: a PUBLISH (marker -1: its payload carries none) or a SUBSCRIBE. */
    private record Step(String topic, MqttMessage message, int marker, MqttSubscription[] subscriptions) {
    }

    @Test
    void tenThousandHostileMqtt5MessagesAreRefusedWithReasonCodesAndReachNoOneElse() throws Exception {
        Devices.withPassword("demo", FUZZER, PASSWORD, true);
        Devices.withPassword("demo", SENTINEL, PASSWORD, true);
        try (EventLoopLag held = EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup());
                LogWatch errorWatch = LogWatch.errors();
                KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            Hostile h = new Hostile(5L);
            List<List<Step>> perConnection = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                perConnection.add(new ArrayList<>());
            }
            // One SUBSCRIBE after every tenth PUBLISH.
            Map<Integer, Step> byMarker = new java.util.HashMap<>();
            for (int i = 0, marker = 0; i < PUBLISHES + SUBSCRIBES; i++) {
                Step step = i % 11 == 10 ? new Step(null, null, -1, subscriptions(h)) : publish(h, marker++);
                byMarker.put(step.marker(), step);
                perConnection.get(i % CONNECTIONS).add(step);
            }
            try (ExecutorService pool = Executors.newFixedThreadPool(CONNECTIONS)) {
                for (List<Step> steps : perConnection) {
                    pool.submit(() -> run(steps));
                }
            }

            errorWatch.close();
            // The service's errors: Paho's own (its sender failing on a connection the server closed) are not.
            List<String> errors = errorWatch.seen().stream().filter(e -> !e.startsWith("org.eclipse.paho.")).toList();
            Files.writeString(Path.of("target/fuzz-mqtt5.txt"), "publishes " + PUBLISHES + ", subscribes " + SUBSCRIBES
                    + " over " + CONNECTIONS + " connections at a time; by what happened: " + outcomes
                    + System.lineSeparator());
            held.assertNoneHeldLongerThan(Duration.ofSeconds(2));
            assertEquals(List.of(), errors.subList(0, Math.min(20, errors.size())), errors.size() + " errors logged");
            assertTrue(outcomes.keySet().stream().noneMatch(o -> o.startsWith("gave up")),
                    "the device could no longer connect: " + outcomes);
            assertEquals(List.of(), outcomes.keySet().stream()
                    .filter(o -> SERVER_FAILURES.stream().anyMatch(code -> o.endsWith(hex(code)))).toList(),
                    "the server failed instead of refusing: " + outcomes);
            given().get(management + "health/ready").then().statusCode(200);

            // Another device reports as before: the positive control, read on the same topic.
            MqttAsyncClient sentinel = connect(SENTINEL, null);
            MqttMessage alive = new MqttMessage("{\"alive\":true}".getBytes(StandardCharsets.UTF_8));
            alive.setQos(1);
            IMqttToken sent = sentinel.publish("telemetry", alive);
            sent.waitForCompletion(10_000);
            assertEquals(0x00, sent.getReasonCodes()[0]);
            sentinel.disconnect().waitForCompletion(10_000);
            sentinel.close();

            Set<Integer> arrived = new HashSet<>();
            KafkaProbe.Control control = KafkaProbe.awaitControl(telemetry, "demo:" + SENTINEL, Set.of("demo:" + FUZZER),
                    Duration.ofSeconds(60), Duration.ofSeconds(2), r -> {
                        if (r.key().equals("demo:" + FUZZER)) {
                            arrived.add(marker(r));
                        }
                    });
            assertNotNull(control.record(), "the sentinel device's report did not arrive");
            assertEquals(List.of(), control.strangers(), "hostile input reported in the name of another device");
            Set<Integer> lost = new HashSet<>(acceptedReports);
            lost.removeAll(arrived);
            assertEquals(Map.of(), lost.stream().limit(5).collect(java.util.stream.Collectors.toMap(m -> m,
                    m -> describe(byMarker.get(m)))), lost.size() + " reports acknowledged with success but not in Kafka");
            Set<Integer> leaked = new HashSet<>(refused);
            leaked.retainAll(arrived);
            assertEquals(Map.of(), leaked.stream().limit(5).collect(java.util.stream.Collectors.toMap(m -> m,
                    m -> answers.get(m) + ": " + describe(byMarker.get(m)))), leaked.size() + " refused reports reached Kafka");
            assertTrue(acceptedReports.size() > 300, "too few reports were accepted to prove much: " + outcomes);
            assertTrue(refused.size() > 1_000, "too few reports were refused to prove much: " + outcomes);
        }
    }

    /** A PUBLISH as a line of a failure's message. */
    private static String describe(Step step) {
        MqttMessage m = step.message();
        String payload = new String(m.getPayload(), StandardCharsets.UTF_8);
        return "topic " + step.topic() + ", qos " + m.getQos() + (m.isRetained() ? ", retained" : "") + ", properties "
                + m.getProperties() + ", payload " + payload.substring(0, Math.min(200, payload.length()));
    }

    private MqttAsyncClient connect(String device, MqttCallback callback) throws MqttException {
        MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:" + adapter.port(), device + "-" + UUID.randomUUID(),
                new MemoryPersistence());
        if (callback != null) {
            client.setCallback(callback);
        }
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setUserName(device + "@demo");
        o.setPassword(PASSWORD.getBytes(StandardCharsets.UTF_8));
        o.setAutomaticReconnect(false);
        client.connect(o).waitForCompletion(10_000);
        return client;
    }

    /** One connection's steps in order; a connection the server ends is replaced by a new one. */
    private void run(List<Step> steps) {
        MqttAsyncClient client = null;
        int failedConnects = 0;
        for (Step step : steps) {
            if (client == null || !client.isConnected()) {
                close(client);
                try {
                    client = connect(FUZZER, new Disconnects());
                    failedConnects = 0;
                } catch (MqttException e) {
                    note("could not connect: " + e.getReasonCode());
                    client = null;
                    if (++failedConnects == 10) {
                        note("gave up after 10 failed connects in a row");
                        return;
                    }
                    continue;
                }
            }
            if (step.subscriptions() != null) {
                subscribe(client, step);
            } else {
                publish(client, step);
            }
        }
        close(client);
    }

    private void publish(MqttAsyncClient client, Step step) {
        int qos = step.message().getQos();
        try {
            IMqttToken t = client.publish(step.topic(), step.message());
            // A QoS 0 message completes once written; it is not written when the server has just closed
            // the connection (after the message before it) and the library has not noticed yet.
            t.waitForCompletion(qos == 0 ? 2_000 : 10_000);
            if (qos == 0) {
                note("qos 0 sent");
                return;
            }
            int code = t.getReasonCodes()[0];
            note((qos == 1 ? "puback " : "pubrec ") + hex(code));
            if (step.marker() >= 0) {
                // Taken on another topic (an event, an answer, a report as itself in a form not listed): not checked.
                if (code != 0) {
                    refused.add(step.marker());
                } else if (OWN_REPORTS.contains(step.topic())) {
                    acceptedReports.add(step.marker());
                }
                answers.put(step.marker(), hex(code));
            }
        } catch (IllegalArgumentException e) {
            note("refused by the client library");
            if (step.marker() >= 0) {
                refused.add(step.marker());
                answers.put(step.marker(), "refused by the library: " + e.getMessage());
            }
        } catch (MqttException e) {
            // Ended by the server (the disconnect's reason code is noted), or not sent: not known either way.
            note("publish ended: " + e.getReasonCode() + (e.getReasonCode() == MqttClientException.REASON_CODE_CLIENT_TIMEOUT
                    ? " (qos " + qos + ", " + step.message().getPayload().length / 10_000 * 10 + "+ KB)" : ""));
        }
    }

    private void subscribe(MqttAsyncClient client, Step step) {
        try {
            IMqttToken t = client.subscribe(step.subscriptions());
            t.waitForCompletion(10_000);
            for (int code : t.getReasonCodes()) {
                note("suback " + hex(code));
            }
        } catch (IllegalArgumentException e) {
            note("refused by the client library");
        } catch (MqttException e) {
            note("subscribe ended: " + e.getReasonCode());
        }
    }

    private void close(MqttAsyncClient client) {
        if (client == null) {
            return;
        }
        try {
            if (client.isConnected()) {
                client.disconnect().waitForCompletion(10_000);
            }
            client.close(true);
        } catch (MqttException e) {
            note("close failed: " + e.getReasonCode());
        }
    }

    private void note(String outcome) {
        outcomes.merge(outcome, 1, Integer::sum);
    }

    private static String hex(int code) {
        return String.format("0x%02X", code);
    }

    private static int marker(ConsumerRecord<String, byte[]> r) {
        Map<String, Object> values = KafkaProbe.read(r, TelemetryReceived.class).features().get("telemetry");
        return values != null && values.get("fuzz") instanceof Number n ? n.intValue() : -1;
    }

    /** The server's DISCONNECTs, by reason code. */
    private final class Disconnects extends dev.doppel.connectivity.testing.Mqtt5Callback {

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            note("disconnect " + hex(response.getReturnCode()));
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            note("error " + exception.getReasonCode());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            note("message on " + topic);
        }
    }

    // ---- what is sent, from the seed ------------------------------------------------------------------

    private static Step publish(Hostile h, int marker) {
        String topic = topic(h);
        byte[] payload;
        boolean marked = h.below(10) < 7;
        if (marked) {
            payload = markedPayload(h, marker).getBytes(StandardCharsets.UTF_8);
            if (h.chance(5)) {
                payload[payload.length - 3] = (byte) (0x80 + h.below(0x80)); // not UTF-8 inside the JSON
            }
        } else {
            payload = switch (h.below(4)) {
                case 0 -> h.notJson();
                case 1 -> new byte[0];
                case 2 -> utf8(h.json());
                default -> bytes(h, h.below(5_000));
            };
        }
        MqttMessage m = new MqttMessage(payload);
        m.setQos(h.below(10) < 6 ? 1 : h.chance(70) ? 0 : 2);
        m.setRetained(h.chance(5));
        m.setProperties(properties(h));
        return new Step(topic, m, marked ? marker : -1, null);
    }

    private static String markedPayload(Hostile h, int marker) {
        String head = "{\"fuzz\":" + marker;
        return switch (h.below(8)) {
            case 0, 1, 2 -> head + ",\"value\":" + h.json() + "}";
            case 3 -> head + ",\"deep\":" + "[".repeat(1 + h.below(5_000)) + "}"; // never closed
            case 4 -> head + ",\"deep\":" + nested(h.below(3_000)) + "}";
            case 5 -> {
                StringBuilder b = new StringBuilder(head);
                for (int i = h.below(4_000); i > 0; i--) {
                    b.append(",\"k").append(i).append("\":").append(i);
                }
                yield b.append('}').toString();
            }
            case 6 -> head + ",\"big\":\"" + "x".repeat(60_000 + h.below(10_000)) + "\"}";
            default -> head + ",\"" + h.pick(List.of("$set", "a.b", "features", "_id", "__proto__", "\u0000",
                    "thingId")) + "\":" + h.json() + "}";
        };
    }

    private static String nested(int depth) {
        return "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
    }

    private static String topic(Hostile h) {
        return switch (h.below(20)) {
            case 0, 1, 2, 3, 4, 5, 6, 7 -> "telemetry";
            case 8 -> h.pick(List.copyOf(OWN_REPORTS));
            case 9 -> "telemetry/demo/" + h.pick(List.of(SENTINEL, "sensor-1", "no-such-device", "a b", "..", "x@y"));
            case 10 -> "telemetry/other/" + FUZZER;
            case 11 -> h.pick(List.of("event", "e", "event/demo/" + SENTINEL, "event/other/x"));
            case 12 -> "command///res/" + UUID.randomUUID() + "/" + h.pick(List.of("200", "abc", "999", "-1", ""));
            case 13 -> h.pick(List.of("status/x", "$SYS/x", "telemetry/", "telemetry///", "/", "command///req/x/y"));
            case 14 -> "telemetry/" + "x".repeat(h.below(60_000));
            default -> text(h).replace("#", "").replace("+", "");
        };
    }

    private static MqttProperties properties(Hostile h) {
        MqttProperties p = new MqttProperties();
        if (h.chance(40)) {
            p.setContentType(h.pick(List.of("application/json", "text/plain", "application/octet-stream",
                    "application/json; charset=utf-16", "", text(h), "x".repeat(10_000))));
        }
        if (h.chance(20)) {
            p.setPayloadFormat(true);
        }
        if (h.chance(20)) {
            List<UserProperty> user = new ArrayList<>();
            for (int i = h.chance(10) ? 500 : h.below(5); i > 0; i--) {
                user.add(new UserProperty(text(h), h.chance(5) ? "v".repeat(30_000) : text(h)));
            }
            p.setUserProperties(user);
        }
        if (h.chance(10)) {
            String topic = h.pick(List.of("command///res/x/200", "telemetry/other/x", "reply", "#", text(h)));
            try {
                p.setResponseTopic(topic);
            } catch (IllegalArgumentException e) {
                // the library refuses to send it: left out
            }
        }
        if (h.chance(10)) {
            p.setCorrelationData(bytes(h, h.below(2_000)));
        }
        if (h.chance(10)) {
            p.setMessageExpiryInterval(h.pick(List.of(0L, 1L, 4_294_967_295L)));
        }
        if (h.chance(5)) {
            p.setTopicAlias(1 + h.below(65_535));
        }
        return p;
    }

    private static MqttSubscription[] subscriptions(Hostile h) {
        MqttSubscription[] s = new MqttSubscription[1 + h.below(4)];
        for (int i = 0; i < s.length; i++) {
            String filter = h.pick(List.of("command///req/#", "command//" + SENTINEL + "/req/#",
                    "command/other/" + FUZZER + "/req/#", "command/demo/+/req/#", "#", "+/+/+", "$SYS/#",
                    "$share/group/command///req/#", "telemetry/#", "command///req/" + "x".repeat(h.below(30_000)),
                    text(h)));
            try {
                s[i] = new MqttSubscription(filter, h.below(3));
                s[i].setNoLocal(h.chance(20));
                s[i].setRetainAsPublished(h.chance(20));
                s[i].setRetainHandling(h.below(3));
            } catch (IllegalArgumentException e) {
                s[i] = new MqttSubscription("command///req/#", 1); // the library refuses to build it
            }
        }
        return s;
    }

    /**
     * Hostile text the library will send: without the control characters, broken surrogates and
     * noncharacters it refuses to encode (its sender thread fails on them and the connection hangs; MqttFuzzIT sends
     * such bytes over a raw socket).
     */
    private static String text(Hostile h) {
        StringBuilder b = new StringBuilder();
        h.text().codePoints().filter(c -> c >= 0x20 && !(c >= 0x7f && c <= 0x9f) && !(c >= 0xd800 && c <= 0xdfff)
                && !(c >= 0xfdd0 && c <= 0xfdef) && (c & 0xfffe) != 0xfffe).forEach(b::appendCodePoint);
        return b.toString();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(Hostile h, int n) {
        byte[] b = new byte[n];
        h.random().nextBytes(b);
        return b;
    }
}

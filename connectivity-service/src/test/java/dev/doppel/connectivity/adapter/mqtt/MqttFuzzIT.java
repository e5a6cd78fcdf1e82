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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/**
 * Hostile MQTT over a raw socket, from a fixed seed: 10,000 connections, each some bytes that are
 * not MQTT, a CONNECT with broken fields (lengths, protocol, flags, identifiers, MQTT 5 properties),
 * or a proper login of a fuzz device followed by broken or hostile packets (topics with wildcards,
 * controls and invalid UTF-8, QoS 3, reserved packet types, lengths that lie, JSON that is not).
 * Afterwards: no event loop was blocked, the service is ready, another device still connects and
 * reports, and nothing reached Kafka in the name of any device but the fuzz device itself.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class MqttFuzzIT {

    private static final int CONNECTIONS = 10_000;
    private static final String PASSWORD = "fuzz-password";
    private static final String FUZZER = "mqtt-fuzz";
    private static final String SENTINEL = "mqtt-fuzz-sentinel";
    /** Broken CONNECTs log in as this one: failed logins lock its login for a while, as they should. */
    private static final String BROKEN = "mqtt-fuzz-broken";

    @Inject
    MqttAdapter adapter;

    @Inject
    Vertx vertx;

    @TestHTTPResource(value = "", management = true)
    URL management;

    private final Map<String, Integer> outcomes = new ConcurrentSkipListMap<>();

    /** The bytes of one connection: what opens it, and what follows a proper login (null: there is none). */
    private record Sent(byte[] first, byte[] afterLogin) {
    }

    @Test
    void tenThousandHostileConnectionsStallNothingAndReachNoOneElse() throws Exception {
        Devices.withPassword("demo", FUZZER, PASSWORD, true);
        Devices.withPassword("demo", SENTINEL, PASSWORD, true);
        Devices.withPassword("demo", BROKEN, PASSWORD, true);
        // Every event loop stays free (the watch shows that it sees a block at the end).
        try (EventLoopLag held = EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup());
                LogWatch errorWatch = LogWatch.errors();
                KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            // What each connection sends comes from the seed, in order; they are sent 16 at a time.
            // Hostile input is counted, not logged as an error (it filled the log before: 2,600 lines).
            Hostile h = new Hostile(1883L);
            List<Sent> all = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                all.add(connection(h));
            }
            try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
                for (Sent sent : all) {
                    pool.submit(() -> send(sent));
                }
            }

            errorWatch.close();
            List<String> errors = errorWatch.seen();
            Files.writeString(Path.of("target/fuzz-mqtt.txt"), "connections " + CONNECTIONS + ", by what the server did: "
                    + outcomes + System.lineSeparator());
            held.assertNoneHeldLongerThan(Duration.ofSeconds(2));
            assertEquals(List.of(), errors.subList(0, Math.min(20, errors.size())), errors.size() + " errors logged");
            String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
            assertTrue(metrics.matches("(?s).*doppel_mqtt_rejected_total\\{reason=\"malformed-packet\"} [1-9].*"),
                    "the malformed packets were not counted");
            given().get(management + "health/ready").then().statusCode(200);

            // Another device connects and reports as before (the positive control of the check below).
            MqttClient sentinel = new MqttClient("tcp://127.0.0.1:" + adapter.port(), SENTINEL + "-" + UUID.randomUUID(),
                    new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setUserName(SENTINEL + "@demo");
            o.setPassword(PASSWORD.toCharArray());
            o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            sentinel.connect(o);
            sentinel.publish("telemetry", "{\"alive\":true}".getBytes(StandardCharsets.UTF_8), 1, false);
            sentinel.disconnect();
            sentinel.close();
            KafkaProbe.Control control = KafkaProbe.awaitControl(telemetry, "demo:" + SENTINEL,
                    java.util.Set.of("demo:" + FUZZER, "demo:" + BROKEN), Duration.ofSeconds(30), Duration.ofSeconds(2));
            assertNotNull(control.record(), "the sentinel device's report did not arrive");
            assertEquals(Map.of("telemetry", Map.of("alive", true)),
                    KafkaProbe.read(control.record(), TelemetryReceived.class).features());
            assertEquals(List.of(), control.strangers(), "hostile input reported in the name of another device");
            assertTrue(outcomes.getOrDefault("logged in", 0) > 5_000, "too few connections got past the login: " + outcomes);
        }
    }

    /** What one connection sends. */
    private static Sent connection(Hostile h) {
        return switch (h.below(10)) {
            case 0 -> new Sent(bytes(h, 1 + h.below(2_000)), null);
            case 1, 2 -> new Sent(brokenConnect(h), null);
            default -> {
                byte[] login = connect(h.chance(50) ? 4 : 5, "fuzz-" + h.below(1_000), FUZZER + "@demo", PASSWORD,
                        new byte[0]);
                ByteArrayOutputStream after = new ByteArrayOutputStream();
                for (int i = 1 + h.below(4); i > 0; i--) {
                    after.writeBytes(packet(h));
                }
                yield new Sent(login, after.toByteArray());
            }
        };
    }

    /**
     * Sends one connection's bytes and notes what the server did with them: accepted the login
     * (then the packets after it go out, the end of the stream after them, and the server has them
     * all), answered otherwise, closed, or said nothing for a while (waiting for the rest of a packet
     * that claims more bytes than came).
     */
    private void send(Sent sent) {
        boolean login = sent.afterLogin() != null;
        String outcome;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", adapter.port()), 5_000);
            s.setSoTimeout(login ? 5_000 : 300);
            s.getOutputStream().write(sent.first());
            s.getOutputStream().flush();
            byte[] first = new byte[4];
            int n = s.getInputStream().readNBytes(first, 0, 4);
            outcome = n == 0 ? "closed" : (first[0] & 0xff) == 0x20 && n == 4 && first[3] == 0 ? "logged in" : "answered";
            if (outcome.equals("logged in")) {
                s.getOutputStream().write(sent.afterLogin());
                s.shutdownOutput();
                s.setSoTimeout(300);
                try {
                    s.getInputStream().readNBytes(1 << 16); // until the server closes, or a moment
                } catch (SocketTimeoutException e) {
                    // still open: every packet was taken
                }
            }
        } catch (SocketTimeoutException e) {
            outcome = "silent";
        } catch (IOException e) {
            outcome = "reset";
        }
        outcomes.merge(outcome.equals("logged in") || !login ? outcome : "login " + outcome, 1, Integer::sum);
    }

    private static byte[] bytes(Hostile h, int n) {
        byte[] b = new byte[n];
        h.random().nextBytes(b);
        return b;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** An MQTT string: a two-byte length and the bytes (which may lie about their length or encoding). */
    private static void string(ByteArrayOutputStream b, byte[] s) {
        b.write((s.length >> 8) & 0xff);
        b.write(s.length & 0xff);
        b.writeBytes(s);
    }

    /** A fixed header (type and flags), the remaining length as a variable byte integer, and the body. */
    private static byte[] frame(int typeAndFlags, byte[] body) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(typeAndFlags);
        int len = body.length;
        do {
            int digit = len % 128;
            len /= 128;
            b.write(len > 0 ? digit | 0x80 : digit);
        } while (len > 0);
        b.writeBytes(body);
        return b.toByteArray();
    }

    private static byte[] connect(int level, String clientId, String user, String password, byte[] properties) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        string(v, utf8("MQTT"));
        v.write(level);
        v.write(0xC2); // user name, password, clean session
        v.write(0);
        v.write(30);
        if (level == 5) {
            v.write(properties.length);
            v.writeBytes(properties);
        }
        string(v, utf8(clientId));
        string(v, utf8(user));
        string(v, utf8(password));
        return frame(0x10, v.toByteArray());
    }

    /** A CONNECT with one or more fields broken. */
    private static byte[] brokenConnect(Hostile h) {
        boolean fuzzer = h.chance(25);
        String user = fuzzer ? BROKEN + "@demo" : switch (h.below(3)) {
            case 0 -> h.text() + "@demo";
            case 1 -> "someone@" + h.text();
            default -> h.text();
        };
        byte[] good = connect(h.chance(50) ? 4 : 5, h.text(), user, fuzzer ? PASSWORD : h.text(),
                h.chance(50) ? bytes(h, h.below(40)) : new byte[0]);
        byte[] b = good.clone();
        switch (h.below(6)) {
            case 0 -> b[4 + h.below(Math.max(1, Math.min(12, b.length - 4)))] = (byte) h.below(256); // header fields
            case 1 -> b[1] = (byte) (0x80 | h.below(256)); // a remaining length that does not end
            case 2 -> b = java.util.Arrays.copyOf(b, h.below(b.length)); // cut short
            case 3 -> b[0] = (byte) (0x10 | 1 + h.below(15)); // reserved flags set
            case 4 -> b = frame(0x10, bytes(h, h.below(300))); // a body of noise
            default -> {
                // as sent: only its identifiers and properties are hostile
            }
        }
        return b;
    }

    /** A packet after a proper login: mostly PUBLISH and SUBSCRIBE with hostile fields. */
    private static byte[] packet(Hostile h) {
        return switch (h.below(10)) {
            case 0, 1, 2, 3 -> publish(h);
            case 4 -> subscribe(h);
            case 5 -> frame(0x40, new byte[] {(byte) h.below(256), (byte) h.below(256)}); // PUBACK for nothing
            case 6 -> frame(h.below(256), bytes(h, h.below(64))); // any type, reserved ones too
            case 7 -> connect(4, "again", FUZZER + "@demo", PASSWORD, new byte[0]); // a second CONNECT
            case 8 -> frame(0x30, bytes(h, h.below(200))); // a PUBLISH of noise
            default -> new byte[] {(byte) 0xC0, 0}; // PINGREQ
        };
    }

    private static byte[] topic(Hostile h) {
        return switch (h.below(8)) {
            case 0 -> utf8("telemetry");
            case 1 -> utf8("telemetry/demo/" + h.pick(List.of(SENTINEL, "sensor-1", FUZZER, "#", "+")));
            case 2 -> utf8("telemetry/other/" + FUZZER);
            case 3 -> utf8(h.pick(List.of("event", "command///res//200", "#", "+/+", "$SYS/x", "telemetry/#", "")));
            case 4 -> new byte[] {(byte) 0xC3, (byte) 0x28, 't'}; // not UTF-8
            case 5 -> utf8("tele\u0000metry");
            default -> utf8(h.text());
        };
    }

    private static byte[] publish(Hostile h) {
        int qos = h.below(4); // 3 is not a QoS
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        string(v, topic(h));
        if (qos > 0) {
            v.write(h.below(256));
            v.write(1 + h.below(255));
        }
        v.writeBytes(h.chance(70) ? utf8(h.json()) : h.notJson());
        return frame(0x30 | qos << 1 | (h.chance(10) ? 1 : 0), v.toByteArray());
    }

    private static byte[] subscribe(Hostile h) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        v.write(0);
        v.write(1 + h.below(255));
        for (int i = h.below(4); i >= 0; i--) {
            string(v, topic(h));
            v.write(h.below(256)); // options: QoS 3 and reserved bits too
        }
        return frame(0x82, v.toByteArray());
    }
}

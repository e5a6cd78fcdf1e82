package dev.doppel.connectivity.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.testing.Devices;
import dev.doppel.connectivity.testing.Mqtt5Callback;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.LogWatch;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;

/**
 * MQTT 5 clients (Eclipse Paho's MQTT 5 client, and Debian's mosquitto clients with {@code -V mqttv5})
 * report, take commands and answer them as MQTT 3.1.1 clients do, and are told why something was
 * refused in MQTT 5's reason codes: a refused QoS 1 message gets a PUBACK code and the connection stays.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class Mqtt5IT {

    private static final String PASSWORD = "mqtt5-password";
    private static final long WAIT_MS = 10_000;

    @Inject
    MqttAdapter adapter;

    @TestHTTPResource(value = "", management = true)
    URL management;

    private MqttAsyncClient client(String deviceId, String password, MqttCallback callback) throws MqttException {
        MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:" + adapter.port(),
                deviceId + "-" + UUID.randomUUID(), new MemoryPersistence());
        if (callback != null) {
            client.setCallback(callback);
        }
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setUserName(deviceId + "@demo");
        o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        o.setAutomaticReconnect(false);
        client.connect(o).waitForCompletion(WAIT_MS);
        return client;
    }

    private static int publish(MqttAsyncClient client, String topic, String payload, int qos, String contentType)
            throws MqttException {
        MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(qos);
        if (contentType != null) {
            MqttProperties p = new MqttProperties();
            p.setContentType(contentType);
            m.setProperties(p);
        }
        IMqttToken t = client.publish(topic, m);
        t.waitForCompletion(WAIT_MS);
        return qos == 0 ? 0 : t.getReasonCodes()[0];
    }

    @Test
    void anMqtt5DeviceReportsAndIsToldInPubackWhatWasRefused() throws Exception {
        Devices.withPassword("demo", "v5-sensor", PASSWORD, true);
        MqttAsyncClient device = client("v5-sensor", PASSWORD, null);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            assertEquals(0x00, publish(device, "telemetry", "{\"temperature\":20.5}", 1, "application/json"));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:v5-sensor".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r, "the MQTT 5 device's report did not arrive");
            assertEquals(Map.of("temperature", 20.5), KafkaProbe.read(r, TelemetryReceived.class).features()
                    .get("telemetry"));

            // Refused, each with its reason code; nothing is sent on and the connection stays.
            assertEquals(0x99, publish(device, "telemetry", "not json", 1, null), "payload format invalid");
            assertEquals(0x99, publish(device, "telemetry", "21.5", 1, "text/plain"),
                    "the content type property counts like Hono's property bag");
            assertEquals(0x87, publish(device, "telemetry/other-tenant/x", "{}", 1, null), "not authorized");
            assertEquals(0x87, publish(device, "telemetry/demo/someone-else", "{}", 1, null), "not its gateway");
            assertEquals(0x90, publish(device, "status/v5-sensor", "{}", 1, null), "topic name invalid");
            assertNull(KafkaProbe.await(telemetry, x -> "demo:v5-sensor".equals(x.key()), Duration.ofSeconds(2)),
                    "a refused message was sent on");
            assertTrue(device.isConnected(), "a refused QoS 1 message closed the MQTT 5 connection");
            assertEquals(0x00, publish(device, "t", "{\"temperature\":21}", 1, null));
            assertNotNull(KafkaProbe.await(telemetry, x -> "demo:v5-sensor".equals(x.key()), Duration.ofSeconds(10)));
        } finally {
            device.disconnect().waitForCompletion(WAIT_MS);
            device.close();
        }
    }

    @Test
    void aDeviceSendingOnlyRefusedMessagesIsLoggedOnceAndCountedEachTime() throws Exception {
        Devices.withPassword("demo", "v5-noisy", PASSWORD, true);
        MqttAsyncClient device = client("v5-noisy", PASSWORD, null);
        double before = rejected("malformed-json");
        try (LogWatch lines = new LogWatch("dev.doppel.connectivity", Level.INFO)) {
            for (int i = 0; i < 50; i++) {
                assertEquals(0x99, publish(device, "telemetry", "not json", 1, null));
            }
            lines.close();
            // The first refusal is logged (the positive control), the other 49 only counted.
            List<String> about = lines.seen().stream().filter(l -> l.contains("demo:v5-noisy")).toList();
            assertEquals(1, about.size(), "lines about the device: " + about);
            assertTrue(about.get(0).contains("refused message"), about.get(0));
            assertEquals(before + 50, rejected("malformed-json"), "each refusal counted");
        } finally {
            device.disconnect().waitForCompletion(WAIT_MS);
            device.close();
        }
    }

    @Test
    void refusedLoginsFromOneAddressAreLoggedOnceAndCountedEachTime() throws Exception {
        // From a loopback address of this test's own (other tests' refusals come from 127.0.0.1), within
        // the per-source allowance of new connections (a burst of 10 in the test profile).
        java.util.Random r = new java.util.Random();
        String address = "127." + (1 + r.nextInt(250)) + "." + r.nextInt(250) + "." + (2 + r.nextInt(250));
        double before = connects("bad-username");
        try (LogWatch lines = new LogWatch("dev.doppel.connectivity", Level.INFO)) {
            for (int i = 0; i < 8; i++) {
                // Not auth-id@tenant: refused before any lookup, so the login throttle stays out of it.
                assertEquals(0x86, assertThrows(MqttException.class, () -> connectFrom(address, "no-tenant-named"))
                        .getReasonCode(), "attempt " + i + " from " + address + ": " + lines.seen());
            }
            lines.close();
            // The first refusal from this address is logged (the positive control), the other 7 only counted.
            List<String> about = lines.seen().stream().filter(l -> l.contains("refused MQTT connection from " + address + ":"))
                    .toList();
            assertEquals(1, about.size(), "lines about refused connections from " + address + ": " + lines.seen());
            assertTrue(about.get(0).contains("bad-username"), about.get(0));
            assertEquals(before + 8, connects("bad-username"), "each refusal counted");
        }
    }

    /** A CONNECT from a socket bound to {@code address} (any of 127.0.0.0/8 reaches the adapter). */
    private void connectFrom(String address, String username) throws MqttException {
        MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:" + adapter.port(), "src-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setUserName(username);
        o.setPassword(PASSWORD.getBytes(StandardCharsets.UTF_8));
        o.setAutomaticReconnect(false);
        o.setSocketFactory(dev.doppel.connectivity.testing.BoundSockets.from(address));
        try {
            client.connect(o).waitForCompletion(WAIT_MS);
        } finally {
            client.close(true);
        }
    }

    private double connects(String outcome) {
        String metrics = io.restassured.RestAssured.get(management + "metrics").then().statusCode(200).extract().asString();
        var m = java.util.regex.Pattern.compile("(?m)^doppel_mqtt_connects_total\\{outcome=\"" + outcome + "\"} (\\S+)$")
                .matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private double rejected(String reason) {
        String metrics = io.restassured.RestAssured.get(management + "metrics").then().statusCode(200).extract().asString();
        var m = java.util.regex.Pattern.compile("(?m)^doppel_mqtt_rejected_total\\{reason=\"" + reason + "\"} (\\S+)$")
                .matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void aRefusedQos0MessageEndsTheConnectionWithAReasonCode() throws Exception {
        Devices.withPassword("demo", "v5-qos0", PASSWORD, true);
        CompletableFuture<Integer> disconnected = new CompletableFuture<>();
        MqttAsyncClient device = client("v5-qos0", PASSWORD, new Mqtt5Callback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                disconnected.complete(response.getReturnCode());
            }
        });
        // QoS 0: nothing comes back but the DISCONNECT. Not waited on: when the DISCONNECT is quicker than
        // the client's own bookkeeping of the sent message, that token is never completed (seen under load).
        MqttMessage notJson = new MqttMessage("not json".getBytes(StandardCharsets.UTF_8));
        notJson.setQos(0);
        device.publish("telemetry", notJson);
        assertEquals(0x99, disconnected.get(10, TimeUnit.SECONDS), "DISCONNECT with payload format invalid");
        device.close();
    }

    @Test
    void refusedConnectsGetMqtt5ReasonCodes() throws Exception {
        Devices.withPassword("demo", "v5-right", PASSWORD, true);
        Devices.withPassword("demo", "v5-disabled", PASSWORD, false);
        MqttException wrong = assertThrows(MqttException.class, () -> client("v5-right", "wrong-password", null));
        assertEquals(0x86, wrong.getReasonCode(), "bad user name or password");
        MqttException disabled = assertThrows(MqttException.class, () -> client("v5-disabled", PASSWORD, null));
        assertEquals(0x87, disabled.getReasonCode(), "not authorized");
    }

    @Test
    void anMqtt5DeviceTakesACommandAndAnswersIt() throws Exception {
        Devices.withPassword("demo", "v5-lamp", PASSWORD, true);
        BlockingQueue<String[]> received = new LinkedBlockingQueue<>();
        MqttAsyncClient device = client("v5-lamp", PASSWORD, new Mqtt5Callback() {
            @Override
            public void messageArrived(String topic, MqttMessage message) {
                received.add(new String[] {topic, new String(message.getPayload(), StandardCharsets.UTF_8)});
            }
        });
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
            IMqttToken sub = device.subscribe(new MqttSubscription[] {new MqttSubscription("command///req/#", 1),
                    new MqttSubscription("sensors/#", 1)});
            sub.waitForCompletion(WAIT_MS);
            assertEquals(List.of(0x01, 0x8F), java.util.Arrays.stream(sub.getReasonCodes()).boxed().toList(),
                    "granted QoS 1, and topic filter invalid for what is not a command subscription");

            String id = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, "demo:v5-lamp", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, "demo:v5-lamp", "switch", "application/json",
                            "{\"on\":true}".getBytes(StandardCharsets.UTF_8), true, Instant.now(),
                            Instant.now().plusSeconds(30), null));
            String[] command = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(command, "the MQTT 5 device got no command");
            assertEquals("command///req/" + id + "/switch", command[0]);
            assertEquals("{\"on\":true}", command[1]);

            assertEquals(0x00, publish(device, "command///res/" + id + "/200", "on", 1, "text/plain"));
            ConsumerRecord<String, byte[]> done = KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.SUCCEEDED;
            }, Duration.ofSeconds(10));
            assertNotNull(done, "the MQTT 5 device's answer did not settle the command");
            assertEquals("text/plain", KafkaProbe.read(done, CommandStatusChanged.class).contentType(),
                    "the answer's content type property is its content type");
            IMqttToken unsub = device.unsubscribe(new String[] {"command///req/#", "c///q/#"});
            unsub.waitForCompletion(WAIT_MS);
            assertEquals(List.of(0x00, 0x11), java.util.Arrays.stream(unsub.getReasonCodes()).boxed().toList(),
                    "UNSUBACK: success, and no subscription existed");
        } finally {
            device.disconnect().waitForCompletion(WAIT_MS);
            device.close();
        }
    }

    @Test
    void mosquittoClientsSpeakingMqtt5() throws Exception {
        Devices.withPassword("demo", "v5-mosquitto", PASSWORD, true);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            Process ok = mosquittoPub("v5-mosquitto", PASSWORD, "telemetry", "{\"humidity\":44}");
            assertEquals(0, ok.exitValue(), output(ok));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:v5-mosquitto".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r, "mosquitto_pub -V mqttv5 did not reach Kafka");
            assertEquals(Map.of("humidity", 44), KafkaProbe.read(r, TelemetryReceived.class).features()
                    .get("telemetry"));
        }
        Process refused = mosquittoPub("v5-mosquitto", "wrong-password", "telemetry", "{}");
        String out = output(refused);
        assertTrue(refused.exitValue() != 0, out);
        assertTrue(out.toLowerCase().contains("bad user name or password"), out);
    }

    private Process mosquittoPub(String deviceId, String password, String topic, String message) throws Exception {
        Process p = new ProcessBuilder("mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p",
                Integer.toString(adapter.port()), "-u", deviceId + "@demo", "-P", password, "-q", "1", "-t", topic,
                "-m", message).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "mosquitto_pub did not finish");
        return p;
    }

    private static String output(Process p) throws java.io.IOException {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}

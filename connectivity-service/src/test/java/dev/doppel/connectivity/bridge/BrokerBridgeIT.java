package dev.doppel.connectivity.bridge;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.MosquittoBroker;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A fleet that talks to its own broker: Debian's mosquitto is that broker, and mosquitto_pub and
 * mosquitto_sub are its devices. The connection maps topic levels to devices, reports what they
 * publish, publishes their commands and takes their answers.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class BrokerBridgeIT {

    @Inject
    BrokerBridges bridges;

    private static RequestSpecification admin() {
        return given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json");
    }

    @Test
    void aFleetOnItsOwnBrokerReportsIntoTwinsAndTakesCommands() throws Exception {
        assertTrue(MosquittoBroker.installed(), "this test needs Debian's mosquitto: apt-get install mosquitto mosquitto-clients");
        try (MosquittoBroker broker = MosquittoBroker.start()) {
            int port = broker.port();
            admin().body("{}").put("/api/registry/devices/demo/plant-m1").then().statusCode(lessThan(300));
            admin().body("""
                    {"uri":"tcp://127.0.0.1:%d","username":"doppel","password":"bridge-secret",
                     "subscriptions":[{"filter":"plant/+/meters/+/data","device":"{3}","feature":"{1}"}],
                     "commandTopic":"plant/cmd/{device}/{subject}/{requestId}",
                     "responses":{"filter":"plant/res/+/+/+","device":"{2}","requestId":"{3}","status":"{4}"}}
                    """.formatted(port)).put("/api/registry/connections/demo/plant").then().statusCode(lessThan(300));
            admin().get("/api/registry/connections/demo/plant").then().statusCode(200)
                    .body("password", equalTo("***")).body("subscriptions[0].device", equalTo("{3}"));
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> bridges.isConnectedHere("demo", "plant"));

            try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                    KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY);
                    KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS);
                    KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
                // An unregistered device's data is skipped, the registered one's arrives.
                broker.publish("plant/north/meters/ghost/data", "{\"kwh\":1}");
                broker.publish("plant/north/meters/plant-m1/data", "{\"kwh\":12.5}");
                ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry,
                        x -> x.key().equals("demo:plant-m1") || x.key().equals("demo:ghost"), Duration.ofSeconds(15));
                assertNotNull(r, "the bridged report did not arrive");
                assertEquals("demo:plant-m1", r.key(), "an unregistered device was reported");
                TelemetryReceived t = KafkaProbe.read(r, TelemetryReceived.class);
                assertEquals(Map.of("north", Map.of("kwh", 12.5)), t.features());
                assertEquals("mqtt-bridge", t.transport());
                // An oversized message is skipped, not a jam: the ones after it still arrive.
                broker.publish("plant/north/meters/plant-m1/data", "{\"blob\":\"" + "x".repeat(300 * 1024) + "\"}");
                broker.publish("plant/north/meters/plant-m1/data", "{\"kwh\":13}");
                ConsumerRecord<String, byte[]> next = KafkaProbe.await(telemetry,
                        x -> x.key().equals("demo:plant-m1"), Duration.ofSeconds(15));
                assertNotNull(next, "the message after an oversized one did not arrive");
                assertEquals(Map.of("north", Map.of("kwh", 13)), KafkaProbe.read(next, TelemetryReceived.class)
                        .features());
                ConsumerRecord<String, byte[]> online = KafkaProbe.await(connections,
                        x -> x.key().equals("demo:plant-m1"), Duration.ofSeconds(10));
                assertNotNull(online, "the device's first message makes it connected");
                assertEquals(-1, KafkaProbe.read(online, DeviceConnectionChanged.class).ttd());

                // A command goes to the fleet's broker; the device's answer there settles it.
                Process sub = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(port),
                        "-t", "plant/cmd/#", "-C", "1", "-v", "-q", "1").redirectErrorStream(true).start();
                Thread.sleep(1000); // the subscription is in place
                String id = UUID.randomUUID().toString();
                kafka.sendEvent(Topics.COMMANDS, "demo:plant-m1", EventTypes.COMMAND_REQUESTED, "/test",
                        new CommandRequested(id, "demo:plant-m1", "reset", "application/json",
                                "{\"to\":0}".getBytes(StandardCharsets.UTF_8), true, Instant.now(),
                                Instant.now().plusSeconds(60), null));
                assertTrue(sub.waitFor(15, TimeUnit.SECONDS), "no command on the fleet's broker");
                String received = new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                assertEquals("plant/cmd/plant-m1/reset/" + id + " {\"to\":0}", received);
                assertNotNull(KafkaProbe.await(statuses, x -> {
                    CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                    return id.equals(s.commandId()) && s.status() == CommandStatus.SENT;
                }, Duration.ofSeconds(10)), "the broker taking the command is its SENT");
                broker.publish("plant/res/plant-m1/" + id + "/200", "{\"reset\":true}");
                ConsumerRecord<String, byte[]> done = KafkaProbe.await(statuses, x -> {
                    CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                    return id.equals(s.commandId()) && s.status() == CommandStatus.SUCCEEDED;
                }, Duration.ofSeconds(10));
                assertNotNull(done, "the answer on the fleet's broker did not settle the command");
                assertEquals("{\"reset\":true}", new String(KafkaProbe.read(done, CommandStatusChanged.class).payload(),
                        StandardCharsets.UTF_8));
            }
            // Gone: the connection closes, the device is disconnected.
            try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                    KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS)) {
                admin().delete("/api/registry/connections/demo/plant").then().statusCode(204);
                ConsumerRecord<String, byte[]> offline = KafkaProbe.await(connections,
                        x -> x.key().equals("demo:plant-m1"), Duration.ofSeconds(15));
                assertNotNull(offline);
                assertEquals(0, KafkaProbe.read(offline, DeviceConnectionChanged.class).ttd());
            }
        }
    }

    @Test
    void aConnectionThatCannotWorkIsRefusedWithEveryProblem() {
        admin().body("""
                {"uri":"http://x","username":"only-user",
                 "subscriptions":[{"filter":"a/#/b","device":"{1}"},{"filter":"a/+","device":"{0}"}],
                 "commandTopic":"a/+/cmd"}
                """).put("/api/registry/connections/demo/broken").then().statusCode(400)
                .contentType("application/problem+json")
                .body("detail", containsString("uri must be"))
                .body("detail", containsString("username and password"))
                .body("detail", containsString("subscription 0: filter"))
                .body("detail", containsString("subscription 1: device: {0} must name a '+' level"))
                .body("detail", containsString("commandTopic"));
        admin().get("/api/registry/connections/demo/none").then().statusCode(404);
    }
}

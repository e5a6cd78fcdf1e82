package dev.doppel.connectivity.hono;

import static dev.doppel.devstack.testing.KafkaProbe.header;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Hono's northbound Kafka API. No Hono runs here (its adapters are not published as runnable jars),
 * so the test acts as Hono does: it writes Hono-format records to the real broker and reads the
 * commands Hono's adapters would take, in Hono's format.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class HonoNorthboundIT {

    /** The tenant bridged in the test profile ({@code doppel.hono.tenants}). */
    private static final String TENANT = "hono-t1";

    @Inject
    HonoNorthbound hono;

    @Test
    void honoTelemetryEventsAndTtdBecomeDoppelEvents() {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(hono::isConsuming);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY);
                KafkaConsumer<String, byte[]> events = kafka.subscribe(Topics.DEVICE_EVENTS);
                KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS);
                KafkaConsumer<String, byte[]> registrations = kafka.subscribe(Topics.DEVICES)) {
            long created = Instant.parse("2026-11-23T10:00:00.123Z").toEpochMilli();
            kafka.sendRaw("hono.telemetry." + TENANT, "pump-1", "{\"pressure\":2.5}".getBytes(StandardCharsets.UTF_8),
                    List.of(header("device_id", "pump-1"), header("content-type", "application/json"),
                            header("creation-time", Long.toString(created)), header("qos", "0"),
                            header("orig_adapter", "hono-mqtt")));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> (TENANT + ":pump-1").equals(x.key()),
                    Duration.ofSeconds(30));
            assertNotNull(r, "Hono telemetry did not arrive");
            TelemetryReceived t = KafkaProbe.read(r, TelemetryReceived.class);
            assertEquals(Map.of("pressure", 2.5), t.features().get("telemetry"));
            assertEquals("hono", t.transport());
            assertEquals(Instant.ofEpochMilli(created), t.sourceTime(), "Hono's creation-time is the source time");
            // Hono's registry holds the device; its first record registers it here, so it has a twin and takes commands.
            ConsumerRecord<String, byte[]> registered = KafkaProbe.await(registrations,
                    x -> (TENANT + ":pump-1").equals(x.key()), Duration.ofSeconds(10));
            assertNotNull(registered, "a Hono device seen first was not announced on dt.devices");
            assertEquals(true, KafkaProbe.read(registered, DeviceLifecycleChanged.class).registered());

            kafka.sendRaw("hono.event." + TENANT, "pump-1", "{\"alarm\":\"overpressure\"}".getBytes(StandardCharsets.UTF_8),
                    List.of(header("device_id", "pump-1"), header("content-type", "application/json"),
                            header("ttd", "30")));
            assertNotNull(KafkaProbe.await(events, x -> (TENANT + ":pump-1").equals(x.key()), Duration.ofSeconds(30)),
                    "Hono event did not arrive");
            assertNotNull(KafkaProbe.await(connections, x -> (TENANT + ":pump-1").equals(x.key())
                    && KafkaProbe.read(x, DeviceConnectionChanged.class).ttd() == 30, Duration.ofSeconds(10)),
                    "the event's ttd is a connection event");

            // An empty notification only says the device is there; nothing is reported.
            kafka.sendRaw("hono.event." + TENANT, "pump-2", new byte[0], List.of(header("device_id", "pump-2"),
                    header("content-type", HonoNorthbound.EMPTY_NOTIFICATION), header("ttd", "-1")));
            ConsumerRecord<String, byte[]> online = KafkaProbe.await(connections,
                    x -> (TENANT + ":pump-2").equals(x.key()), Duration.ofSeconds(30));
            assertNotNull(online, "empty notification did not become a connection event");
            assertEquals(-1, KafkaProbe.read(online, DeviceConnectionChanged.class).ttd());
            assertNotNull(KafkaProbe.await(registrations, x -> (TENANT + ":pump-2").equals(x.key()),
                    Duration.ofSeconds(10)), "a Hono device known only from its notification was not announced");

            // A record that cannot be mapped is skipped (logged, counted), and the ones after it still flow.
            kafka.sendRaw("hono.telemetry." + TENANT, "pump-3", "not json".getBytes(StandardCharsets.UTF_8),
                    List.of(header("device_id", "pump-3"), header("content-type", "application/json")));
            kafka.sendRaw("hono.telemetry." + TENANT, "pump-3", "{\"pressure\":1}".getBytes(StandardCharsets.UTF_8),
                    List.of(header("device_id", "pump-3"), header("content-type", "application/json")));
            ConsumerRecord<String, byte[]> after = KafkaProbe.await(telemetry, x -> (TENANT + ":pump-3").equals(x.key()),
                    Duration.ofSeconds(30));
            assertNotNull(after, "bad records blocked the ones after them");
            assertEquals(Map.of("pressure", 1), KafkaProbe.read(after, TelemetryReceived.class).features()
                    .get("telemetry"));
        }
    }

    @Test
    void commandsGoOutOnHonosCommandApiAndItsResponsesSettleThem() {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(hono::isConsuming);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> honoCommands = kafka.subscribe("hono.command." + TENANT);
                KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
            String id = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, TENANT + ":valve-1", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, TENANT + ":valve-1", "open", "application/json",
                            "{\"percent\":40}".getBytes(StandardCharsets.UTF_8), true, Instant.now(),
                            Instant.now().plusSeconds(60), null));
            ConsumerRecord<String, byte[]> sent = KafkaProbe.await(honoCommands, x -> "valve-1".equals(x.key()),
                    Duration.ofSeconds(30));
            assertNotNull(sent, "no command on Hono's command topic");
            assertEquals("valve-1", KafkaProbe.header(sent, "device_id"));
            assertEquals("open", KafkaProbe.header(sent, "subject"));
            assertEquals(id, KafkaProbe.header(sent, "correlation-id"));
            assertEquals("true", KafkaProbe.header(sent, "response-required"));
            assertEquals("application/json", KafkaProbe.header(sent, "content-type"));
            assertEquals("{\"percent\":40}", new String(sent.value(), StandardCharsets.UTF_8));
            assertNotNull(KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.SENT
                        && CommandStatusChanged.HANDED_OFF.equals(s.reason());
            }, Duration.ofSeconds(10)), "Hono taking the command is its SENT, handed off");
            // Sent again (a new ttd made command-service retry it), Hono does not get it twice.
            kafka.sendEvent(Topics.COMMANDS, TENANT + ":valve-1", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, TENANT + ":valve-1", "open", "application/json",
                            "{\"percent\":40}".getBytes(StandardCharsets.UTF_8), true, Instant.now(),
                            Instant.now().plusSeconds(60), null));
            assertNull(KafkaProbe.await(honoCommands, x -> "valve-1".equals(x.key()), Duration.ofSeconds(5)),
                    "the command went to Hono twice");

            // The device answers through Hono: a record on hono.command_response.{tenant}.
            kafka.sendRaw("hono.command_response." + TENANT, "valve-1", "{\"opened\":40}".getBytes(StandardCharsets.UTF_8),
                    List.of(header("device_id", "valve-1"), header("tenant_id", TENANT), header("correlation-id", id),
                            header("status", "200"), header("content-type", "application/json")));
            ConsumerRecord<String, byte[]> done = KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.SUCCEEDED;
            }, Duration.ofSeconds(30));
            assertNotNull(done, "Hono's command response did not settle the command");
            CommandStatusChanged s = KafkaProbe.read(done, CommandStatusChanged.class);
            assertEquals(200, s.statusCode());
            assertEquals("{\"opened\":40}", new String(s.payload(), StandardCharsets.UTF_8));

            // Hono answers an undeliverable command itself, with an error status.
            String lost = UUID.randomUUID().toString();
            kafka.sendRaw("hono.command_response." + TENANT, "valve-9", new byte[0],
                    List.of(header("device_id", "valve-9"), header("tenant_id", TENANT), header("correlation-id", lost),
                            header("status", "503")));
            ConsumerRecord<String, byte[]> failed = KafkaProbe.await(statuses,
                    x -> lost.equals(KafkaProbe.read(x, CommandStatusChanged.class).commandId()), Duration.ofSeconds(30));
            assertNotNull(failed);
            assertEquals(CommandStatus.FAILED, KafkaProbe.read(failed, CommandStatusChanged.class).status());
        }
    }
}

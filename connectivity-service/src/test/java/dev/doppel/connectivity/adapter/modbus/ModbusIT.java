package dev.doppel.connectivity.adapter.modbus;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.ghgande.j2mod.modbus.procimg.SimpleInputRegister;
import com.ghgande.j2mod.modbus.procimg.SimpleProcessImage;
import com.ghgande.j2mod.modbus.procimg.SimpleRegister;
import com.ghgande.j2mod.modbus.slave.ModbusSlave;
import com.ghgande.j2mod.modbus.slave.ModbusSlaveFactory;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.Ports;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;

/**
 * A smart electricity meter on Modbus TCP (M2M), played by j2mod's Modbus slave: polled into
 * telemetry on the real broker, written to by a {@code modbus.write} command, and reported
 * disconnected while it does not answer.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class ModbusIT {

    private static final int UNIT = 3;

    /** Holding 0-1: voltage (float32), 2: setpoint (int16, 0.1 °C); input 0-1: energy (uint32, Wh). */
    private static SimpleProcessImage meterImage(float volts, int energyWh) {
        SimpleProcessImage image = new SimpleProcessImage(UNIT);
        int v = Float.floatToIntBits(volts);
        image.addRegister(new SimpleRegister(v >>> 16));
        image.addRegister(new SimpleRegister(v & 0xFFFF));
        image.addRegister(new SimpleRegister(200));
        image.addInputRegister(new SimpleInputRegister(energyWh >>> 16));
        image.addInputRegister(new SimpleInputRegister(energyWh & 0xFFFF));
        return image;
    }

    private static ModbusSlave slave(int port, SimpleProcessImage image) throws Exception {
        ModbusSlave slave = ModbusSlaveFactory.createTCPSlave(port, 4);
        slave.addProcessImage(UNIT, image);
        slave.open();
        return slave;
    }

    private static String plan(int port) {
        return """
                {"host": "127.0.0.1", "port": %d, "unitId": %d, "periodMs": 300, "feature": "meter",
                 "registers": [
                   {"name": "voltage", "address": 0, "type": "float32"},
                   {"name": "setpoint", "address": 2, "type": "int16", "scale": 0.1},
                   {"name": "energy", "table": "input", "address": 0, "type": "uint32", "scale": 0.001}
                 ]}""".formatted(port, UNIT);
    }

    private static void register(String deviceId) {
        given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                .body("{\"enabled\":true}").put("/api/registry/devices/demo/" + deviceId).then()
                .statusCode(lessThan(300));
    }

    @Test
    void aMeterIsPolledIntoTelemetryAndTakesAWriteCommand() throws Exception {
        register("meter-1");
        int port = Ports.free();
        SimpleProcessImage image = meterImage(230.5f, 1_234_567);
        ModbusSlave slave = slave(port, image);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY);
                KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
            given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                    .body(plan(port)).put("/api/registry/devices/demo/meter-1/modbus").then().statusCode(201)
                    .body("registers[0].wordOrder", equalTo("big"));

            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:meter-1".equals(x.key()),
                    Duration.ofSeconds(20));
            assertNotNull(r, "the meter was not polled");
            TelemetryReceived t = KafkaProbe.read(r, TelemetryReceived.class);
            assertEquals("modbus", t.transport());
            Map<String, Object> meter = t.features().get("meter");
            assertEquals(230.5, ((Number) meter.get("voltage")).doubleValue(), 1e-6);
            assertEquals(20.0, ((Number) meter.get("setpoint")).doubleValue(), 1e-9);
            assertEquals(1234.567, ((Number) meter.get("energy")).doubleValue(), 1e-9);

            String id = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, "demo:meter-1", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, "demo:meter-1", "modbus.write", "application/json",
                            "{\"register\": \"setpoint\", \"value\": 21.5}".getBytes(StandardCharsets.UTF_8), true,
                            Instant.now(), Instant.now().plusSeconds(30), null));
            ConsumerRecord<String, byte[]> done = KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.SUCCEEDED;
            }, Duration.ofSeconds(20));
            assertNotNull(done, "the write was not reported done");
            assertEquals(215, image.getRegister(2).getValue(), "the meter holds the new setpoint");
            // The next polls read it back.
            assertNotNull(KafkaProbe.await(telemetry, x -> "demo:meter-1".equals(x.key()) && ((Number) KafkaProbe
                    .read(x, TelemetryReceived.class).features().get("meter").get("setpoint")).equals(21.5),
                    Duration.ofSeconds(10)), "the new setpoint was not polled");

            // A write to a register the plan cannot write fails with a reason, and writes nothing.
            String bad = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, "demo:meter-1", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(bad, "demo:meter-1", "modbus.write", "application/json",
                            "{\"values\": {\"setpoint\": 19, \"energy\": 0}}".getBytes(StandardCharsets.UTF_8),
                            true, Instant.now(), Instant.now().plusSeconds(30), null));
            ConsumerRecord<String, byte[]> refused = KafkaProbe.await(statuses,
                    x -> bad.equals(KafkaProbe.read(x, CommandStatusChanged.class).commandId()), Duration.ofSeconds(20));
            assertNotNull(refused, "the bad write was not answered");
            CommandStatusChanged s = KafkaProbe.read(refused, CommandStatusChanged.class);
            assertEquals(CommandStatus.FAILED, s.status());
            assertEquals(400, s.statusCode());
            assertTrue(new String(s.payload(), StandardCharsets.UTF_8).contains("'energy'"));
            assertEquals(215, image.getRegister(2).getValue(), "nothing was written");
        } finally {
            slave.close();
        }
    }

    @Test
    void aMeterThatStopsAnsweringIsDisconnectedUntilItAnswersAgain() throws Exception {
        register("meter-2");
        int port = Ports.free();
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS)) {
            ModbusSlave slave = slave(port, meterImage(229f, 10));
            given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                    .body(plan(port)).put("/api/registry/devices/demo/meter-2/modbus").then().statusCode(201);
            assertNotNull(awaitConnection(connections, "demo:meter-2", true), "not reported connected");
            slave.close();
            assertNotNull(awaitConnection(connections, "demo:meter-2", false), "not reported disconnected");
            slave = slave(port, meterImage(229f, 11));
            try {
                assertNotNull(awaitConnection(connections, "demo:meter-2", true), "not reported back");
            } finally {
                slave.close();
            }
        } finally {
            given().auth().oauth2(RealInfrastructure.token("admin"))
                    .delete("/api/registry/devices/demo/meter-2/modbus").then().statusCode(204);
        }
    }

    @Test
    void aBadPlanIsAProblemAndStoresNothing() {
        register("meter-3");
        given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                .body("{\"host\": \"\", \"registers\": [{\"name\": \"v\", \"address\": -1}]}")
                .put("/api/registry/devices/demo/meter-3/modbus").then().statusCode(400)
                .contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/invalid-modbus-plan"))
                .body("detail", containsString("host is required"))
                .body("detail", containsString("address must be 0 to 65535"));
        given().auth().oauth2(RealInfrastructure.token("admin")).get("/api/registry/devices/demo/meter-3/modbus")
                .then().statusCode(404);
        given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json").body(plan(1502))
                .put("/api/registry/devices/demo/no-such-meter/modbus").then().statusCode(404);
    }

    private static ConsumerRecord<String, byte[]> awaitConnection(KafkaConsumer<String, byte[]> connections,
            String thingId, boolean connected) {
        return KafkaProbe.await(connections, x -> thingId.equals(x.key())
                && KafkaProbe.read(x, DeviceConnectionChanged.class).connected() == connected, Duration.ofSeconds(30));
    }
}

package dev.doppel.connectivity.adapter.modbus;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.ghgande.j2mod.modbus.procimg.SimpleProcessImage;
import com.ghgande.j2mod.modbus.procimg.SimpleRegister;
import com.ghgande.j2mod.modbus.slave.ModbusSlave;
import com.ghgande.j2mod.modbus.slave.ModbusSlaveFactory;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.Ports;
import dev.doppel.devstack.testing.EventLoopLag;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * Hostile Modbus slaves ({@link HostileModbusSlave}): eight devices of one tenant whose plans point at
 * a slave that lies, beside an honest meter of another tenant. Every value reported for the hostile
 * devices is one the slave gave honestly (a lie is never taken for data); then, with as many of them
 * dripping an answer one byte at a time as the poller has threads, the honest meter is still polled;
 * no poll is logged as an ERROR; the service is ready at the end.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class ModbusFuzzIT {

    private static final int HOSTILE_DEVICES = 8;
    private static final int ANSWERS = 400;
    /** Adjacent registers read in one request: a long answer to drip. */
    private static final int WORDS = 100;
    private static final int UNIT = 1;

    @Inject
    Vertx vertx;

    @TestHTTPResource(value = "", management = true)
    URL management;

    private static void put(String path, String body, int expected) {
        given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json").body(body).put(path)
                .then().statusCode(expected);
    }

    private static String hostilePlan(int port) {
        StringJoiner registers = new StringJoiner(",");
        for (int i = 0; i < WORDS; i++) {
            registers.add("{\"name\":\"r" + i + "\",\"address\":" + i + ",\"type\":\"int16\"}");
        }
        return "{\"host\":\"127.0.0.1\",\"port\":" + port + ",\"unitId\":" + UNIT
                + ",\"periodMs\":100,\"feature\":\"h\",\"registers\":[" + registers + "]}";
    }

    @Test
    void liesAreNeverTakenForDataAndADrippingSlaveStallsNoOtherDevice() throws Exception {
        // The test profile polls with a timeout of 1 s and backs off for at most 1 s: many answers, soon.
        int threads = ConfigProvider.getConfig().getValue("doppel.modbus.threads", Integer.class);
        SimpleProcessImage image = new SimpleProcessImage(UNIT);
        image.addRegister(new SimpleRegister(100));
        int honestPort = Ports.free();
        ModbusSlave honest = ModbusSlaveFactory.createTCPSlave(honestPort, 2);
        honest.addProcessImage(UNIT, image);
        honest.open();
        List<String> lies = new ArrayList<>();
        try (HostileModbusSlave slave = new HostileModbusSlave(20261207L);
                EventLoopLag held = EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup());
                LogWatch errors = LogWatch.errors();
                KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                    .body("{\"enabled\":true}").put("/api/registry/devices/demo/fuzz-meter").then()
                    .statusCode(lessThan(300));
            put("/api/registry/devices/demo/fuzz-meter/modbus", "{\"host\":\"127.0.0.1\",\"port\":" + honestPort
                    + ",\"unitId\":" + UNIT + ",\"periodMs\":300,\"feature\":\"m\",\"registers\":[{\"name\":\"v\","
                    + "\"address\":0,\"type\":\"int16\"}]}", 201);
            for (int i = 1; i <= HOSTILE_DEVICES; i++) {
                given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                        .body("{\"enabled\":true}").put("/api/registry/devices/modbus-fuzz/h-" + i).then()
                        .statusCode(lessThan(300));
                put("/api/registry/devices/modbus-fuzz/h-" + i + "/modbus", hostilePlan(slave.port()), 201);
            }

            // Every kind of answer, many times over; whatever is reported must be what the slave said honestly.
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            int honestValues = 0;
            while (slave.total() < ANSWERS) {
                if (System.nanoTime() > deadline) {
                    fail("the hostile slave was asked only " + slave.total() + " times in 5 minutes: " + slave.given());
                }
                for (ConsumerRecord<String, byte[]> r : telemetry.poll(Duration.ofMillis(200))) {
                    if (r.key() != null && r.key().startsWith("modbus-fuzz:")) {
                        Map<String, Object> h = KafkaProbe.read(r, TelemetryReceived.class).features().get("h");
                        if (h == null || h.size() != WORDS || h.values().stream()
                                .anyMatch(v -> ((Number) v).intValue() != HostileModbusSlave.HONEST)) {
                            lies.add(r.key() + " reported " + h);
                        } else {
                            honestValues++;
                        }
                    }
                }
            }
            java.nio.file.Files.writeString(java.nio.file.Path.of("target/fuzz-modbus.txt"), "answers: " + slave.given()
                    + "\nhonest values reported: " + honestValues + "\nlies reported: " + lies + "\n");
            assertTrue(lies.isEmpty(), "answers that were not honest were reported as data: " + lies);
            assertTrue(honestValues > 0, "not one honest answer was reported (answers given: " + slave.given() + ")");

            // Now every hostile device drips its answer, a byte every 800 ms (each byte within the read
            // timeout, the whole answer taking minutes): as many of them as the poller has threads.
            slave.only(HostileModbusSlave.Answer.DRIP);
            int dripsBefore = slave.given().getOrDefault(HostileModbusSlave.Answer.DRIP,
                    new java.util.concurrent.atomic.AtomicInteger()).get();
            while (slave.given().get(HostileModbusSlave.Answer.DRIP).get() < dripsBefore + threads) {
                if (System.nanoTime() > deadline) {
                    fail("the hostile devices were not polled again: " + slave.given());
                }
                Thread.sleep(100);
            }
            image.getRegister(0).setValue(101);
            ConsumerRecord<String, byte[]> moved = KafkaProbe.await(telemetry, r -> "demo:fuzz-meter".equals(r.key())
                    && ((Number) KafkaProbe.read(r, TelemetryReceived.class).features().get("m").get("v")).intValue() == 101,
                    Duration.ofSeconds(30));
            assertNotNull(moved, "the honest meter was not polled while " + slave.dripping()
                    + " hostile devices dripped their answers");

            assertEquals(List.of(), errors.seen(), "a hostile slave made the service log errors");
            held.assertNoneHeldLongerThan(Duration.ofSeconds(2));
            assertEquals(200, given().get(management + "health/ready").statusCode());
        } finally {
            honest.close();
            for (int i = 1; i <= HOSTILE_DEVICES; i++) {
                given().auth().oauth2(RealInfrastructure.token("admin"))
                        .delete("/api/registry/devices/modbus-fuzz/h-" + i + "/modbus");
            }
        }
    }
}

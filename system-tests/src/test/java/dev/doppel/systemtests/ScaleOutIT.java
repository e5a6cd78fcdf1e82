package dev.doppel.systemtests;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.KafkaBroker;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.ServiceProcess;
import dev.doppel.devstack.testing.KafkaProbe;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Twin-service scales out on Kafka partitions: two processes on one machine share the device topics'
 * partitions (keyed by thing id), and while one of them crashes and another joins, no report is lost
 * and none is applied out of order. The twins' history is the witness: every report of a thing is in
 * it exactly once, in the order the device sent them.
 */
class ScaleOutIT {

    private static final String GROUP = "twin-service";
    private static final int THINGS = 24;
    private static final int REPORTS = 45;

    private static LocalSystem system;
    private static KafkaProbe kafka;
    private static String admin;

    @BeforeAll
    static void start() throws Exception {
        system = new LocalSystem(Files.createTempDirectory("doppel-scale-"), LocalSystem.Layout.freePorts());
        system.startInfrastructure(null).startServices(List.of("twin-service"), Map.of());
        kafka = new KafkaProbe(system.kafka().bootstrapServers());
        admin = system.tokens().password("admin", "admin");
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
        if (system != null) {
            system.close();
        }
    }

    @Test
    void twoInstancesSplitThePartitionsAndNoReportIsLostOrReordered() throws Exception {
        ServiceProcess first = system.service("twin-service");
        ServiceProcess second = system.startReplica("twin-service");
        awaitMembersOwningPartitions(2);

        Instant base = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(3600);
        send(0, REPORTS / 3, base);
        // Both instances applied reports: the load is really split, not idling on one.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertTrue(applied(first) > 0, "first instance applied nothing");
            assertTrue(applied(second) > 0, "second instance applied nothing");
        });

        // A crash mid-stream: the survivor takes over the dead member's partitions.
        second.process().kill();
        send(REPORTS / 3, 2 * REPORTS / 3, base);
        awaitMembersOwningPartitions(1);

        // Scale out again: a fresh instance joins and gets its share.
        system.startReplica("twin-service");
        send(2 * REPORTS / 3, REPORTS, base);
        awaitMembersOwningPartitions(2);

        for (int t = 0; t < THINGS; t++) {
            String thing = thing(t);
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertEquals(REPORTS - 1,
                    given().auth().oauth2(admin).get(first.baseUrl() + "/api/2/things/" + thing
                            + "/features/telemetry/properties/seq").then().statusCode(200).extract().as(Integer.class)));
            JsonPath history = given().auth().oauth2(admin)
                    .queryParam("path", "features/telemetry/properties").queryParam("limit", 1000)
                    .get(first.baseUrl() + "/api/2/things/" + thing + "/history")
                    .then().statusCode(200).extract().jsonPath();
            // Report i sets its own property r<i>: each must be in the twin's history once (none lost),
            // and a later report can never have been written in an earlier revision (none reordered).
            Map<Integer, Integer> revisionOfReport = new TreeMap<>();
            List<Map<String, Object>> entries = history.getList("$");
            for (Map<String, Object> e : entries) {
                String path = (String) e.get("path");
                String leaf = path.substring(path.lastIndexOf('/') + 1);
                if (leaf.matches("r\\d+")) {
                    Integer previous = revisionOfReport.put(Integer.parseInt(leaf.substring(1)),
                            ((Number) e.get("revision")).intValue());
                    assertEquals(null, previous, thing + ": report " + leaf + " applied twice");
                }
            }
            assertEquals(REPORTS, revisionOfReport.size(), thing + ": reports in the history " + revisionOfReport.keySet());
            int last = 0;
            for (var e : revisionOfReport.entrySet()) {
                assertTrue(e.getValue() >= last, thing + ": report " + e.getKey() + " written in revision "
                        + e.getValue() + ", before an earlier report's revision " + last);
                last = e.getValue();
            }
        }
    }

    /** Reports {@code from} to {@code to - 1} of every thing, interleaved across things as a fleet sends them. */
    private static void send(int from, int to, Instant base) {
        for (int seq = from; seq < to; seq++) {
            for (int t = 0; t < THINGS; t++) {
                TelemetryReceived report = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(thing(t)),
                        "telemetry", Map.of("telemetry", Map.of("seq", seq, "r" + seq, seq)), null, base.plusMillis(seq * 10L), "mqtt");
                kafka.sendEvent(Topics.DEVICE_TELEMETRY, report.thingId(), EventTypes.TELEMETRY_RECEIVED,
                        "/connectivity/mqtt", report);
            }
        }
    }

    private static String thing(int t) {
        return "scale:meter-" + t;
    }

    /** Waits until the group has {@code members} members, each owning partitions, together all of them. */
    private static void awaitMembersOwningPartitions(int members) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            try (Admin kafkaAdmin = system.kafka().admin()) {
                ConsumerGroupDescription group = kafkaAdmin.describeConsumerGroups(List.of(GROUP))
                        .describedGroups().get(GROUP).get(10, TimeUnit.SECONDS);
                Set<TopicPartition> owned = new HashSet<>();
                int owning = 0;
                for (MemberDescription m : group.members()) {
                    Set<TopicPartition> mine = new HashSet<>();
                    m.assignment().topicPartitions().stream()
                            .filter(tp -> tp.topic().equals(Topics.DEVICE_TELEMETRY)).forEach(mine::add);
                    owning += mine.isEmpty() ? 0 : 1;
                    owned.addAll(mine);
                }
                assertEquals(members, group.members().size(), "members of " + GROUP);
                assertEquals(members, owning, "members owning partitions of " + Topics.DEVICE_TELEMETRY);
                assertEquals(KafkaBroker.DEFAULT_PARTITIONS, owned.size(), "every partition has an owner");
            }
        });
    }

    /** Reports this instance applied, from its own Prometheus metrics. */
    private static double applied(ServiceProcess instance) {
        String metrics = given().get(instance.baseUrl() + "/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines()
                .filter(l -> l.startsWith("doppel_twin_reports_total") && l.contains("outcome=\"applied\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }
}

package dev.doppel.systemtests;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.devstack.KafkaBroker;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Ports;
import dev.doppel.devstack.Provisioner;
import dev.doppel.devstack.ServiceProcess;
import dev.doppel.devstack.testing.KafkaProbe;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The services scale out on Kafka partitions keyed by thing id. Two twin-service processes on one
 * machine share the device topics' partitions, and while one crashes and another joins, no report
 * is lost and none is applied out of order; the twins' history is the witness, and every revision
 * of every twin is on the change stream, also the one whose writer was killed. Two connectivity
 * processes share dt.commands, and a command reaches its device whichever of them the device is
 * connected to.
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
        system.startInfrastructure(null).startServices(LocalSystem.SERVICES, Map.of());
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
        KafkaConsumer<String, byte[]> changes = fromStart(Topics.TWIN_CHANGES);
        Map<String, Map<Long, Long>> published = new HashMap<>();

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
            // The history is appended right after the twin is written: wait for it, not only the twin.
            Map<Integer, Integer> revisionOfReport = await(thing + ": all " + REPORTS + " reports in the history")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> reportRevisions(thing), r -> r.size() == REPORTS);
            int last = 0;
            for (var e : revisionOfReport.entrySet()) {
                assertTrue(e.getValue() >= last, thing + ": report " + e.getKey() + " written in revision "
                        + e.getValue() + ", before an earlier report's revision " + last);
                last = e.getValue();
            }
            // The changes on dt.twin-changes chain from the last write back to the first (each names the
            // revision before it), so none is missing, not even one whose writer was killed.
            long newest = last;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (brokenLink(published.getOrDefault(thing, Map.of()), newest) >= 0 && System.nanoTime() < deadline) {
                changes.poll(Duration.ofMillis(200)).forEach(r -> {
                    TwinChanged c = KafkaProbe.read(r, TwinChanged.class);
                    published.computeIfAbsent(r.key(), k -> new HashMap<>()).put(c.revision(), c.previousRevision());
                });
            }
            assertEquals(-1, brokenLink(published.getOrDefault(thing, Map.of()), newest),
                    thing + ": no change published for this revision; published " + published.get(thing));
        }
        changes.close();
    }

    /**
     * Report i sets its own property r<i>: the revision each report was written in, from the twin's
     * history. A report in it twice fails at once (applied twice).
     */
    private static Map<Integer, Integer> reportRevisions(String thing) {
        JsonPath history = given().auth().oauth2(admin)
                .queryParam("path", "features/telemetry/properties").queryParam("limit", 1000)
                .get(system.service("twin-service").baseUrl() + "/api/2/things/" + thing + "/history")
                .then().statusCode(200).extract().jsonPath();
        Map<Integer, Integer> revisionOfReport = new TreeMap<>();
        for (Map<String, Object> e : history.<Map<String, Object>>getList("$")) {
            String path = (String) e.get("path");
            String leaf = path.substring(path.lastIndexOf('/') + 1);
            if (leaf.matches("r\\d+")) {
                Integer previous = revisionOfReport.put(Integer.parseInt(leaf.substring(1)),
                        ((Number) e.get("revision")).intValue());
                assertEquals(null, previous, thing + ": report " + leaf + " applied twice");
            }
        }
        return revisionOfReport;
    }

    /** A consumer of every partition of the topic from its first record, outside any group. */
    private static KafkaConsumer<String, byte[]> fromStart(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, system.kafka().bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p);
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /** The first revision, walking back from {@code newest}, with no change published; -1 if none. */
    private static long brokenLink(Map<Long, Long> previousOf, long newest) {
        long revision = newest;
        while (revision > 0) {
            Long previous = previousOf.get(revision);
            if (previous == null) {
                return revision;
            }
            revision = previous;
        }
        return -1;
    }

    @Test
    void aCommandReachesItsDeviceWhicheverConnectivityInstanceHoldsIt() throws Exception {
        ServiceProcess first = system.service("connectivity-service");
        int secondMqtt = Ports.free();
        ServiceProcess second = system.startReplica("connectivity-service",
                Map.of("doppel.mqtt.port", Integer.toString(secondMqtt)));
        Provisioner provisioner = new Provisioner(first.baseUrl(), admin);
        // Devices whose ids fall on every partition of dt.commands, all connected to the second
        // instance: those on partitions the first instance owns must be handed over to reach them.
        List<String> devices = new ArrayList<>();
        Set<Integer> partitions = new HashSet<>();
        for (int i = 0; partitions.size() < KafkaBroker.DEFAULT_PARTITIONS || devices.size() < 6; i++) {
            String id = "valve-" + i;
            if (partitions.add(partitionOf("scale:" + id)) || devices.size() < 6) {
                devices.add(id);
            }
        }
        List<MqttClient> clients = new ArrayList<>();
        for (String id : devices) {
            provisioner.device("scale", id, "valve-secret");
            clients.add(answeringDevice(secondMqtt, id));
        }
        awaitGroupMembers("connectivity-service", Topics.COMMANDS, 2);
        String operator = system.tokens().password("admin", "admin");
        String commands = system.service("command-service").baseUrl();
        for (String id : devices) {
            given().auth().oauth2(operator).contentType("application/json").body("{\"open\":true}")
                    .post(commands + "/api/2/things/scale:" + id + "/inbox/messages/open?timeout=10s")
                    .then().statusCode(200).body("device", org.hamcrest.Matchers.equalTo(id));
        }
        assertTrue(handedOver(first) > 0, "no command needed handing over: the test proved nothing");
        for (MqttClient c : clients) {
            c.disconnect();
        }
        second.close();
    }

    /** A Paho device that answers every command with 200 and its own id. */
    private static MqttClient answeringDevice(int port, String id) throws Exception {
        MqttClient client = PahoDevices.connect(port, id, "scale", "valve-secret");
        client.subscribe("command///req/#", 1, (topic, message) -> {
            String requestId = topic.split("/")[4];
            new Thread(() -> {
                try {
                    client.publish("command///res/" + requestId + "/200",
                            ("{\"device\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8), 1, false);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).start();
        });
        return client;
    }

    /** The partition Kafka's default partitioner gives a key, as the producers of dt.commands use it. */
    private static int partitionOf(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % KafkaBroker.DEFAULT_PARTITIONS;
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
        awaitGroupMembers(GROUP, Topics.DEVICE_TELEMETRY, members);
    }

    private static void awaitGroupMembers(String groupId, String topic, int members) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            try (Admin kafkaAdmin = system.kafka().admin()) {
                ConsumerGroupDescription group = kafkaAdmin.describeConsumerGroups(List.of(groupId))
                        .describedGroups().get(groupId).get(10, TimeUnit.SECONDS);
                Set<TopicPartition> owned = new HashSet<>();
                int owning = 0;
                for (MemberDescription m : group.members()) {
                    Set<TopicPartition> mine = new HashSet<>();
                    m.assignment().topicPartitions().stream()
                            .filter(tp -> tp.topic().equals(topic)).forEach(mine::add);
                    owning += mine.isEmpty() ? 0 : 1;
                    owned.addAll(mine);
                }
                assertEquals(members, group.members().size(), "members of " + groupId);
                assertEquals(members, owning, "members owning partitions of " + topic);
                assertEquals(KafkaBroker.DEFAULT_PARTITIONS, owned.size(), "every partition has an owner");
            }
        });
    }

    /** The sum of a counter's series with the given label, from the instance's own Prometheus metrics. */
    private static double counter(ServiceProcess instance, String name, String label) {
        String metrics = given().get(instance.managementUrl() + "/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines()
                .filter(l -> l.startsWith(name + "{") && l.contains(label))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static double applied(ServiceProcess instance) {
        return counter(instance, "doppel_twin_reports_total", "outcome=\"applied\"");
    }

    private static double handedOver(ServiceProcess instance) {
        return counter(instance, "doppel_commands_routed_total", "outcome=\"handed-over\"");
    }
}

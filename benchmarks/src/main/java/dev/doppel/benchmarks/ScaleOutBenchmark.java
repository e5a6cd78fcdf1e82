package dev.doppel.benchmarks;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.testing.KafkaProbe;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * How twin-service's consumption scales with instances on one machine: a backlog of device reports
 * is drained into twins by one instance, then an equal backlog (other things, another topic) by two
 * instances in one consumer group. The reference, in the same run, is a plain Kafka consumer reading
 * the same backlog without doing anything with it.
 *
 * <pre>./doppel bench scale [--reports 60000] [--things 2000]</pre>
 */
public final class ScaleOutBenchmark {

    private static final int PARTITIONS = 6;

    public static void main(String[] args) throws Exception {
        int reports = 60_000;
        int things = 2_000;
        boolean twoFirst = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reports" -> reports = Integer.parseInt(args[++i]);
                case "--things" -> things = Integer.parseInt(args[++i]);
                // The second drain runs on a store that already holds the first one's twins: swap to see that cost.
                case "--two-first" -> twoFirst = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        System.out.printf(Locale.ROOT, "Scale-out benchmark: %d reports on %d things per backlog, %d partitions, %d cores%n",
                reports, things, PARTITIONS, Runtime.getRuntime().availableProcessors());
        try (LocalSystem system = new LocalSystem(Files.createTempDirectory("doppel-bench-scale-"),
                LocalSystem.Layout.freePorts())) {
            system.startInfrastructure(null);
            String bootstrap = system.kafka().bootstrapServers();
            try (Admin admin = system.kafka().admin()) {
                admin.createTopics(List.of(new NewTopic("bench.one", PARTITIONS, (short) 1),
                        new NewTopic("bench.two", PARTITIONS, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            load(bootstrap, "bench.one", "one", reports, things);
            load(bootstrap, "bench.two", "two", reports, things);

            double raw = rawConsume(bootstrap, "bench.one", reports);

            double one;
            double both;
            if (twoFirst) {
                both = drainWithTwo(system, reports);
                stopTwinServices(system);
                one = drainWithOne(system, reports);
            } else {
                one = drainWithOne(system, reports);
                stopTwinServices(system);
                both = drainWithTwo(system, reports);
            }

            System.out.println();
            System.out.println("| measure | plain Kafka consumer (reference) | twin-service | ratio |");
            System.out.println("|---|---|---|---|");
            ClosedLoop.row("reports drained into twins /s, 1 instance", raw, one);
            ClosedLoop.row("reports drained into twins /s, 2 instances", raw, both);
            System.out.printf(Locale.ROOT, "| 2 instances vs 1 | | | %.2f |%n", both / one);
        }
    }

    private static double drainWithOne(LocalSystem system, int reports) throws Exception {
        system.startServices(List.of("twin-service"), config("bench.one", "drain-one"));
        return drain(system, "drain-one", "bench.one", reports);
    }

    /** Two instances at once, one consumer group: they split the partitions. */
    private static double drainWithTwo(LocalSystem system, int reports) throws Exception {
        Map<String, String> two = config("bench.two", "drain-two");
        CompletableFuture<Void> first = CompletableFuture.runAsync(
                () -> system.startServices(List.of("twin-service"), two));
        Thread.sleep(500);
        system.startReplica("twin-service", two);
        first.join();
        return drain(system, "drain-two", "bench.two", reports);
    }

    /** Every twin-service process of the run, the replicas included. */
    private static void stopTwinServices(LocalSystem system) {
        system.processes().stream().filter(p -> p.name().equals("twin-service")).forEach(p -> p.stop(Duration.ofSeconds(20)));
    }

    private static Map<String, String> config(String topic, String group) {
        return Map.of("mp.messaging.incoming.device-telemetry.topics", topic,
                "mp.messaging.incoming.device-telemetry.group.id", group);
    }

    /** Reports spread over the things, each thing's in increasing source time, as a fleet sends them. */
    private static void load(String bootstrap, String topic, String tenant, int reports, int things) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        Instant base = Instant.now().minusSeconds(86_400);
        long t0 = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < reports; i++) {
                String thing = tenant + ":meter-" + (i % things);
                producer.send(KafkaProbe.report(topic, TelemetryReceived.of(UUID.randomUUID().toString(),
                        ThingId.parse(thing), "telemetry", Map.of("telemetry", Map.of("energy", i, "power", i % 500)),
                        null, base.plusMillis(i), "mqtt"), "/bench"));
            }
            producer.flush();
        }
        System.out.printf(Locale.ROOT, "[load] %d reports on %s in %.1f s%n", reports, topic, (System.nanoTime() - t0) / 1e9);
    }

    private static double rawConsume(String bootstrap, String topic, int reports) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "raw-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long read = 0;
            long t0 = 0;
            while (read < reports) {
                int n = consumer.poll(Duration.ofMillis(500)).count();
                if (n > 0 && t0 == 0) {
                    t0 = System.nanoTime();
                }
                read += n;
            }
            double rate = read / ((System.nanoTime() - t0) / 1e9);
            System.out.printf(Locale.ROOT, "[raw] %d records read at %.0f /s%n", read, rate);
            return rate;
        }
    }

    /** The group's committed progress over time, from its first commit until it has committed everything. */
    private static double drain(LocalSystem system, String group, String topic, int reports) throws Exception {
        try (Admin admin = system.kafka().admin()) {
            long firstAt = 0;
            long firstCommitted = 0;
            while (true) {
                long committed = committed(admin, group, topic);
                long now = System.nanoTime();
                if (committed > 0 && firstAt == 0) {
                    firstAt = now;
                    firstCommitted = committed;
                }
                if (committed >= reports) {
                    double rate = (committed - firstCommitted) / ((now - firstAt) / 1e9);
                    System.out.printf(Locale.ROOT, "[%s] %d reports committed, %.0f /s after the first commit%n",
                            group, committed, rate);
                    return rate;
                }
                Thread.sleep(200);
            }
        }
    }

    private static long committed(Admin admin, String group, String topic) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        long sum = 0;
        for (var e : offsets.entrySet()) {
            if (e.getKey().topic().equals(topic) && e.getValue() != null) {
                sum += e.getValue().offset();
            }
        }
        return sum;
    }
}

package dev.doppel.benchmarks;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.testing.KafkaProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.bson.Document;

/**
 * Whether a crash costs more when the store is full: twin-service is killed with SIGKILL under a
 * steady telemetry load and started again, first with an empty store (the reference, same run), then
 * after a million reports (and their history) were written through it. For each restart it prints the
 * time from the kill until twin-service writes twins again and until every value acknowledged before
 * the kill is in its twin, and the time from publish to twin before and after the restart. At the end
 * every twin of the steady load must hold the last value Kafka acknowledged for it (read from the
 * store directly).
 *
 * <p>The load stands in for connectivity-service: it publishes on {@code dt.device-telemetry} with
 * {@code acks=all}, which is what a device's PUBACK waits for. The store is the one {@code ./doppel run}
 * uses (the stand-in on an H2 file), unless {@code --store memory}.
 *
 * <pre>./doppel bench restart [--reports 1000000] [--things 2000] [--live 50] [--rate 500] [--after 75] [--store h2|memory]</pre>
 */
public final class RestartBenchmark {

    private static final String TELEMETRY = "dt.device-telemetry";
    private static final String GROUP = "twin-service";

    private int reports = 1_000_000;
    private int things = 2_000;
    private int live = 50;
    private int rate = 500;
    /** Seconds of load after each restart: the history expiry runs one minute after a start. */
    private int after = 75;
    private boolean h2 = true;

    private LocalSystem system;
    private long[] acked;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean running = true;
    private volatile boolean watching = true;
    private long[] seen;
    /** When the last twin change of the steady load arrived, in epoch micros, and its record time. */
    private volatile long lastChangeRecordMillis;
    private volatile Histogram latency = new ConcurrentHistogram(3);

    public static void main(String[] args) throws Exception {
        new RestartBenchmark().run(args);
    }

    private void run(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reports" -> reports = Integer.parseInt(args[++i]);
                case "--things" -> things = Integer.parseInt(args[++i]);
                case "--live" -> live = Integer.parseInt(args[++i]);
                case "--rate" -> rate = Integer.parseInt(args[++i]);
                case "--after" -> after = Integer.parseInt(args[++i]);
                case "--store" -> h2 = switch (args[++i]) {
                    case "h2" -> true;
                    case "memory" -> false;
                    default -> throw new IllegalArgumentException("--store h2 or memory");
                };
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        acked = new long[live];
        seen = new long[live];
        System.out.printf(Locale.ROOT, "Restart benchmark: %d steady devices at %d reports/s; %d reports on %d things"
                + " between the two restarts; store %s; %d cores%n", live, rate, reports, things,
                h2 ? "stand-in on H2 (as ./doppel run)" : "stand-in in memory", Runtime.getRuntime().availableProcessors());
        Path dir = Files.createTempDirectory("doppel-bench-restart-");
        try (LocalSystem s = new LocalSystem(dir, LocalSystem.Layout.freePorts())) {
            system = s;
            system.startInfrastructure(h2 ? dir.resolve("mongodb/doppel.mv") : null);
            system.startServices(List.of("twin-service"), Map.of());
            String bootstrap = system.kafka().bootstrapServers();
            Thread changes = Thread.ofPlatform().name("changes").start(() -> watchChanges(bootstrap));
            Thread load = Thread.ofPlatform().name("load").start(() -> steadyLoad(bootstrap));

            Thread.sleep(20_000);
            Restart empty = restart("empty store");

            long t0 = System.nanoTime();
            seed(bootstrap);
            System.out.printf(Locale.ROOT, "[seed] %d reports in twins after %.0f s (%.0f /s, with the steady load)%n",
                    reports, (System.nanoTime() - t0) / 1e9, reports / ((System.nanoTime() - t0) / 1e9));
            Restart full = restart(reports + " reports stored");

            running = false;
            load.join();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!allSeen() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            watching = false;
            changes.join();
            long missing = missingInStore();

            System.out.println();
            System.out.println("| measure | empty store (reference) | " + reports + " reports stored | ratio |");
            System.out.println("|---|---|---|---|");
            ClosedLoop.row("SIGKILL to twins written again, s", empty.consumingAfter, full.consumingAfter);
            ClosedLoop.row("SIGKILL to every value acknowledged before it in its twin, s", empty.recoveredAfter, full.recoveredAfter);
            ClosedLoop.row("publish to twin p99 before the kill, ms", empty.p99Before, full.p99Before);
            ClosedLoop.row("publish to twin p99 in the " + after + " s after recovering, ms", empty.p99After, full.p99After);
            System.out.printf(Locale.ROOT, "%nSteady load: %d reports acknowledged, %d refused by Kafka; acknowledged values"
                    + " missing from their twins in the store at the end: %d%n", sent.get(), failed.get(), missing);
            if (missing > 0) {
                System.exit(1);
            }
        }
    }

    private record Restart(double consumingAfter, double recoveredAfter, double p99Before, double p99After) {
    }

    /** Kills twin-service under the steady load and starts it again; measures until {@code after} s later. */
    private Restart restart(String label) throws Exception {
        latency = new ConcurrentHistogram(3);
        Thread.sleep(10_000);
        double before = latency.getValueAtPercentile(99) / 1000.0;
        long[] ackedAtKill = snapshot();
        long killMillis = System.currentTimeMillis();
        long kill = System.nanoTime();
        System.out.printf(Locale.ROOT, "[%s] SIGKILL to twin-service%n", label);
        system.restartService("twin-service", true);
        System.out.printf(Locale.ROOT, "[%s] twin-service ready again after %.1f s%n", label, (System.nanoTime() - kill) / 1e9);
        double consuming = -1;
        double recovered = -1;
        long end = System.nanoTime() + Duration.ofSeconds(after).toNanos();
        while (System.nanoTime() < end || consuming < 0 || recovered < 0) {
            double elapsed = (System.nanoTime() - kill) / 1e9;
            if (consuming < 0 && lastChangeRecordMillis > killMillis) {
                consuming = elapsed;
                System.out.printf(Locale.ROOT, "[%s] twins written again %.1f s after the kill%n", label, consuming);
            }
            if (recovered < 0 && seenAll(ackedAtKill)) {
                recovered = elapsed;
                // From here on the latency is the restarted service's, not the outage's.
                latency = new ConcurrentHistogram(3);
                end = Math.max(end, System.nanoTime() + Duration.ofSeconds(after).toNanos());
                System.out.printf(Locale.ROOT, "[%s] every value acknowledged before the kill in its twin %.1f s after it%n",
                        label, recovered);
            }
            if (elapsed > 600) {
                throw new IllegalStateException(label + ": twin-service did not take the load up again within 600 s;"
                        + " see " + system.service("twin-service").process().log());
            }
            Thread.sleep(100);
        }
        double afterP99 = latency.getValueAtPercentile(99) / 1000.0;
        System.out.printf(Locale.ROOT, "[%s] publish to twin p99 %.0f ms before the kill, %.0f ms in the %d s after recovering%n",
                label, before, afterP99, after);
        return new Restart(consuming, recovered, before, afterP99);
    }

    /** {@code live} devices, each publishing a rising sequence number, together {@code rate} reports per second. */
    private void steadyLoad(String bootstrap) {
        try (KafkaProducer<String, byte[]> producer = producer(bootstrap, 1)) {
            long interval = 1_000_000_000L / rate;
            long next = System.nanoTime();
            long n = 0;
            while (running) {
                int device = (int) (n % live);
                long seq = n / live + 1;
                n++;
                Map<String, Object> values = Map.of("seq", seq, "sentAt", micros(Instant.now()));
                producer.send(record(TELEMETRY, "live:meter-" + device, Map.of("telemetry", values)), (md, e) -> {
                    if (e != null) {
                        failed.incrementAndGet();
                        return;
                    }
                    sent.incrementAndGet();
                    synchronized (acked) {
                        acked[device] = Math.max(acked[device], seq);
                    }
                });
                next += interval;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reports of the steady load as twin-service writes them, timed from publish to twin. */
    private void watchChanges(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-restart-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of("dt.twin-changes"));
            while (watching) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (!r.key().startsWith("live:meter-")) {
                        continue;
                    }
                    TwinChanged change = KafkaProbe.read(r, TwinChanged.class);
                    if (change.changes().get("features/telemetry/properties/seq") instanceof Number q
                            && change.changes().get("features/telemetry/properties/sentAt") instanceof Number at) {
                        int device = Integer.parseInt(r.key().substring("live:meter-".length()));
                        synchronized (acked) {
                            seen[device] = Math.max(seen[device], q.longValue());
                        }
                        latency.recordValue(Math.max(0, micros(Instant.now()) - at.longValue()));
                        lastChangeRecordMillis = r.timestamp();
                    }
                }
            }
        }
    }

    /** Writes the reports of a fleet's history onto the topic, then waits until twin-service has applied them. */
    private void seed(String bootstrap) throws Exception {
        try (KafkaProducer<String, byte[]> producer = producer(bootstrap, 5)) {
            Instant base = Instant.now().minusSeconds(3_600);
            for (int i = 0; i < reports; i++) {
                producer.send(record(TELEMETRY, "seed:meter-" + (i % things),
                        Map.of("telemetry", Map.of("energy", i)), base.plusMillis(i / things)));
            }
            producer.flush();
        }
        System.out.printf(Locale.ROOT, "[seed] %d reports on %s%n", reports, TELEMETRY);
        try (Admin admin = system.kafka().admin()) {
            long lastPrint = System.nanoTime();
            while (true) {
                long lag = lag(admin);
                if (lag < 2L * rate) {
                    return;
                }
                if (System.nanoTime() - lastPrint > 30e9) {
                    System.out.printf(Locale.ROOT, "[seed] %d reports still to apply%n", lag);
                    lastPrint = System.nanoTime();
                }
                Thread.sleep(1_000);
            }
        }
    }

    /** How far twin-service's group is behind the end of the telemetry topic. */
    private static long lag(Admin admin) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
        for (var tp : admin.describeTopics(List.of(TELEMETRY)).allTopicNames().get(10, TimeUnit.SECONDS)
                .get(TELEMETRY).partitions()) {
            latest.put(new TopicPartition(TELEMETRY, tp.partition()), OffsetSpec.latest());
        }
        long lag = 0;
        for (var e : admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet()) {
            OffsetAndMetadata c = committed.get(e.getKey());
            lag += e.getValue().offset() - (c == null ? 0 : c.offset());
        }
        return lag;
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap, int lingerMs) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        // A broker that stays reachable is retried for as long as the run lasts.
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    private static ProducerRecord<String, byte[]> record(String topic, String thing, Map<String, Map<String, Object>> values) {
        return record(topic, thing, values, Instant.now());
    }

    private static ProducerRecord<String, byte[]> record(String topic, String thing, Map<String, Map<String, Object>> values,
            Instant sourceTime) {
        return KafkaProbe.report(topic, TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(thing),
                "telemetry", values, null, sourceTime, "mqtt"), "/bench");
    }

    private long[] snapshot() {
        synchronized (acked) {
            return acked.clone();
        }
    }

    private boolean seenAll(long[] target) {
        synchronized (acked) {
            for (int i = 0; i < live; i++) {
                if (seen[i] < target[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    private boolean allSeen() {
        return seenAll(snapshot());
    }

    /** Acknowledged values whose twin in the store holds an older sequence number. */
    private long missingInStore() {
        long[] target = snapshot();
        long missing = 0;
        try (MongoClient mongo = MongoClients.create(system.mongo().connectionString())) {
            MongoCollection<Document> twins = mongo.getDatabase("doppel-twins").getCollection("twins");
            for (int i = 0; i < live; i++) {
                Document twin = twins.find(Filters.eq("_id", "live:meter-" + i)).first();
                long stored = 0;
                if (twin != null && twin.get("features") instanceof Document f && f.get("telemetry") instanceof Document t
                        && t.get("properties") instanceof Document p && p.get("seq") instanceof Number q) {
                    stored = q.longValue();
                }
                missing += Math.max(0, target[i] - stored);
            }
        }
        return missing;
    }

    private static long micros(Instant t) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, t);
    }
}

package dev.doppel.benchmarks;

import dev.doppel.contracts.Topics;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Provisioner;
import dev.doppel.devstack.testing.KafkaProbe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * Telemetry throughput and latency, MQTT device to twin.
 *
 * <p>N simulated devices (Eclipse Paho, one connection each) publish QoS 1 telemetry as fast as their
 * PUBACKs come back, for S seconds. The same load first runs against Debian's mosquitto broker,
 * the reference: a plain MQTT broker that stores nothing. Then it runs against Doppel (connectivity
 * → Kafka → twin-service → MongoDB stand-in) while a Kafka consumer of {@code dt.twin-changes} times
 * each value from publish to twin write. Figures are printed as absolute numbers and as ratios to the
 * reference, since the machines are shared and noisy.
 *
 * <pre>./doppel bench [--devices 20] [--seconds 20]</pre>
 */
public final class TelemetryBenchmark {

    private static final String PASSWORD = "bench-secret";

    public static void main(String[] args) throws Exception {
        int devices = 20;
        int seconds = 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--devices" -> devices = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory("doppel-bench-");
        System.out.printf(Locale.ROOT, "Telemetry benchmark: %d devices, QoS 1, %d s per run, %d cores%n", devices,
                seconds, Runtime.getRuntime().availableProcessors());

        Load reference = mosquittoReference(dir, devices, seconds);
        Load doppel = doppelRun(dir, devices, seconds);

        System.out.println();
        System.out.println("| measure | mosquitto (reference) | doppel | ratio |");
        System.out.println("|---|---|---|---|");
        row("QoS 1 publishes acknowledged /s", reference.ackedPerSecond(), doppel.ackedPerSecond());
        row("publish → PUBACK p50 ms", reference.ackLatency.getValueAtPercentile(50) / 1000.0,
                doppel.ackLatency.getValueAtPercentile(50) / 1000.0);
        row("publish → PUBACK p99 ms", reference.ackLatency.getValueAtPercentile(99) / 1000.0,
                doppel.ackLatency.getValueAtPercentile(99) / 1000.0);
        System.out.printf(Locale.ROOT, "| values in twins /s (sustained, in window) | - | %.0f | %.2f of reference publishes |%n",
                doppel.twinPerSecond(), doppel.twinPerSecond() / reference.ackedPerSecond());
        System.out.printf(Locale.ROOT, "| publish → twin written p50 ms | - | %.1f | |%n",
                doppel.twinLatency.getValueAtPercentile(50) / 1000.0);
        System.out.printf(Locale.ROOT, "| publish → twin written p99 ms | - | %.1f | |%n",
                doppel.twinLatency.getValueAtPercentile(99) / 1000.0);
        System.out.printf(Locale.ROOT, "| values acknowledged but missing from twins after drain | - | %d | |%n",
                doppel.missing);
        System.exit(0);
    }

    private static void row(String name, double ref, double ours) {
        System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.2f |%n", name, ref, ours, ours / ref);
    }

    /** What one run measured. */
    static final class Load {
        final Histogram ackLatency = new ConcurrentHistogram(3);
        final Histogram twinLatency = new ConcurrentHistogram(3);
        final AtomicLong acked = new AtomicLong();
        final AtomicLong twinUpdates = new AtomicLong();
        long missing;
        double seconds;

        double ackedPerSecond() {
            return acked.get() / seconds;
        }

        double twinPerSecond() {
            return twinUpdates.get() / seconds;
        }
    }

    private static Load mosquittoReference(Path dir, int devices, int seconds) throws Exception {
        try (Mosquitto mosquitto = Mosquitto.start(dir)) {
            System.out.println("[reference] running load ...");
            return drive(mosquitto.uri(), devices, seconds, i -> null, null);
        }
    }

    private static Load doppelRun(Path dir, int devices, int seconds) throws Exception {
        System.out.println("[doppel] starting Kafka, MongoDB stand-in, Keycloak, twin-service and connectivity-service ...");
        try (LocalSystem system = new LocalSystem(dir, LocalSystem.Layout.freePorts())) {
            system.startInfrastructure(null).startServices(List.of("twin-service", "connectivity-service"),
                    Map.of("doppel.registry.pbkdf2-iterations", "10000"));
            Provisioner provisioner = new Provisioner(system.service("connectivity-service").baseUrl(),
                    system.tokens().password("admin", "admin"));
            for (int i = 0; i < devices; i++) {
                provisioner.device("bench", "dev-" + i, PASSWORD);
            }
            try (KafkaProbe probe = new KafkaProbe(system.kafka().bootstrapServers());
                    KafkaConsumer<String, byte[]> changes = probe.subscribe(Topics.TWIN_CHANGES)) {
                System.out.println("[doppel] MQTT " + system.mqttPort() + ": running load ...");
                return drive("tcp://127.0.0.1:" + system.mqttPort(), devices, seconds, i -> "dev-" + i + "@bench",
                        changes);
            }
        }
    }

    interface Users {
        String user(int device);
    }

    /** Closed loop: each device publishes, waits for its PUBACK, publishes again. */
    private static Load drive(String uri, int devices, int seconds, Users users, KafkaConsumer<String, byte[]> changes)
            throws Exception {
        Load load = new Load();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong[] lastAcked = new AtomicLong[devices];
        List<MqttClient> clients = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            MqttClient c = new MqttClient(uri, "bench-" + i, new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            // Paho frees an in-flight slot slightly after a synchronous publish returns; leave room for that.
            o.setMaxInflight(1000);
            String user = users.user(i);
            if (user != null) {
                o.setUserName(user);
                o.setPassword(PASSWORD.toCharArray());
            }
            c.connect(o);
            clients.add(c);
            lastAcked[i] = new AtomicLong(-1);
        }
        // Warm-up outside the measured window.
        for (MqttClient c : clients) {
            c.publish("telemetry", "{\"warmup\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
        }
        Instant windowStart = Instant.now();
        Instant windowEnd = windowStart.plusSeconds(seconds);
        CountDownLatch done = new CountDownLatch(devices);
        for (int i = 0; i < devices; i++) {
            int device = i;
            MqttClient c = clients.get(i);
            Thread.ofPlatform().daemon().name("device-" + i).start(() -> {
                long seq = 0;
                try {
                    while (running.get()) {
                        long sentMicros = micros(Instant.now());
                        String json = "{\"seq\":" + seq + ",\"sentAt\":" + sentMicros + "}";
                        long t0 = System.nanoTime();
                        c.publish("telemetry", json.getBytes(StandardCharsets.UTF_8), 1, false);
                        load.ackLatency.recordValue((System.nanoTime() - t0) / 1000);
                        load.acked.incrementAndGet();
                        lastAcked[device].set(seq);
                        seq++;
                    }
                } catch (Exception e) {
                    System.err.println("device " + device + " stopped: " + e);
                } finally {
                    done.countDown();
                }
            });
        }
        long windowStartMicros = micros(windowStart);
        long windowEndMicros = micros(windowEnd);
        long[] lastSeenSeq = new long[devices];
        java.util.Arrays.fill(lastSeenSeq, -1);
        while (Instant.now().isBefore(windowEnd)) {
            if (changes != null) {
                poll(changes, load, lastSeenSeq, windowStartMicros, windowEndMicros);
            } else {
                Thread.sleep(100);
            }
        }
        running.set(false);
        done.await();
        load.seconds = seconds;
        if (changes != null) {
            // Drain: every acknowledged value must reach its twin.
            long drainDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < drainDeadline && !allSeen(lastSeenSeq, lastAcked)) {
                poll(changes, load, lastSeenSeq, windowStartMicros, windowEndMicros);
            }
            for (int i = 0; i < devices; i++) {
                load.missing += Math.max(0, lastAcked[i].get() - lastSeenSeq[i]);
            }
        }
        for (MqttClient c : clients) {
            c.disconnect();
            c.close();
        }
        return load;
    }

    private static void poll(KafkaConsumer<String, byte[]> changes, Load load, long[] lastSeenSeq, long windowStart,
            long windowEnd) {
        for (ConsumerRecord<String, byte[]> r : changes.poll(Duration.ofMillis(100))) {
            long now = micros(Instant.now());
            TwinChanged change = KafkaProbe.read(r, TwinChanged.class);
            Object sent = change.changes().get("features/telemetry/properties/sentAt");
            Object seq = change.changes().get("features/telemetry/properties/seq");
            if (!(sent instanceof Number s) || !(seq instanceof Number q)) {
                continue;
            }
            int device = Integer.parseInt(change.thingId().substring(change.thingId().indexOf("dev-") + 4));
            // One change may carry several values of a device (a consumed batch is one write): count values.
            long values = Math.max(0, q.longValue() - lastSeenSeq[device]);
            lastSeenSeq[device] = Math.max(lastSeenSeq[device], q.longValue());
            if (s.longValue() >= windowStart && s.longValue() <= windowEnd) {
                load.twinLatency.recordValue(Math.max(0, now - s.longValue()));
                if (now <= windowEnd) {
                    load.twinUpdates.addAndGet(values);
                }
            }
        }
    }

    private static boolean allSeen(long[] seen, AtomicLong[] acked) {
        for (int i = 0; i < seen.length; i++) {
            if (seen[i] < acked[i].get()) {
                return false;
            }
        }
        return true;
    }

    private static long micros(Instant t) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, t);
    }

    private TelemetryBenchmark() {
    }
}

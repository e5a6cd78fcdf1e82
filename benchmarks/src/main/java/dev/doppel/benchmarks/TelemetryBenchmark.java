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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * Telemetry throughput and latency, MQTT device to twin.
 *
 * <p>N simulated devices (Eclipse Paho, one connection each) publish QoS 1 telemetry, each keeping K
 * publishes in flight (the next goes out when a PUBACK comes back), for W seconds of warm-up and then S
 * measured seconds. The same load first runs against Debian's mosquitto broker,
 * the reference: a plain MQTT broker that stores nothing. Then it runs against Doppel (connectivity
 * → Kafka → twin-service → MongoDB stand-in) while a Kafka consumer of {@code dt.twin-changes} times
 * each value from publish to twin write. Figures are printed as absolute numbers and as ratios to the
 * reference, since the machines are shared and noisy.
 *
 * <pre>./doppel bench telemetry [--devices 50] [--inflight 10] [--seconds 20] [--warmup 15]</pre>
 */
public final class TelemetryBenchmark {

    private static final String PASSWORD = "bench-secret";

    /** What to run: devices (connections), publishes in flight on each, measured and warm-up seconds. */
    static final class Options {
        int devices = 50;
        int inflight = 10;
        int seconds = 20;
        int warmup = 15;
    }

    public static void main(String[] args) throws Exception {
        Options options = new Options();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--devices" -> options.devices = Integer.parseInt(args[++i]);
                case "--inflight" -> options.inflight = Integer.parseInt(args[++i]);
                case "--seconds" -> options.seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> options.warmup = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory("doppel-bench-");
        System.out.printf(Locale.ROOT,
                "Telemetry benchmark: %d devices x %d in flight, QoS 1, %d s warm-up + %d s measured per run, %d cores%n",
                options.devices, options.inflight, options.warmup, options.seconds,
                Runtime.getRuntime().availableProcessors());

        Load reference = mosquittoReference(dir, options);
        Load[] runs = doppelRun(dir, options);
        Load doppel = runs[0];
        Load paced = runs[1];
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
                doppel.missing + paced.missing);
        doppel.cpu.print("acknowledged publish");
        System.out.println();
        System.out.printf(Locale.ROOT, "At half that rate (%.0f/s offered, paced, other %d devices):%n", paced.offered,
                options.devices);
        System.out.println("| measure | doppel |");
        System.out.println("|---|---|");
        System.out.printf(Locale.ROOT, "| QoS 1 publishes acknowledged /s | %.0f |%n", paced.ackedPerSecond());
        System.out.printf(Locale.ROOT, "| publish → PUBACK p99 ms | %.1f |%n",
                paced.ackLatency.getValueAtPercentile(99) / 1000.0);
        System.out.printf(Locale.ROOT, "| publish → twin written p50 ms | %.1f |%n",
                paced.twinLatency.getValueAtPercentile(50) / 1000.0);
        System.out.printf(Locale.ROOT, "| publish → twin written p99 ms | %.1f |%n",
                paced.twinLatency.getValueAtPercentile(99) / 1000.0);
        long total = 0;
        for (Map.Entry<String, Long> e : paced.resident.entrySet()) {
            System.out.printf(Locale.ROOT, "| resident MB after both runs: %s | %d |%n", e.getKey(), e.getValue() >> 20);
            total += e.getValue();
        }
        System.out.printf(Locale.ROOT, "| resident MB after both runs: the three services together | %d |%n", total >> 20);
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
        double offered;
        /** CPU per acknowledged publish of each process in the measured window (doppel's full-rate run). */
        CpuPerOperation cpu;
        /** Resident memory of each service at the end of the run (bytes). */
        final Map<String, Long> resident = new LinkedHashMap<>();

        double ackedPerSecond() {
            return acked.get() / seconds;
        }

        double twinPerSecond() {
            return twinUpdates.get() / seconds;
        }
    }

    private static Load mosquittoReference(Path dir, Options options) throws Exception {
        try (Mosquitto mosquitto = Mosquitto.start(dir)) {
            System.out.println("[reference] running load ...");
            return drive(mosquitto.uri(), options, 0, 0, options.warmup, i -> null, null, null);
        }
    }

    /**
     * Doppel as fast as it answers, then at half that rate on as many other devices (their twins
     * new): the latency a fleet sees when the system is not at its limit.
     */
    private static Load[] doppelRun(Path dir, Options options) throws Exception {
        System.out.println("[doppel] starting Kafka, MongoDB stand-in, Keycloak and the three services ...");
        try (LocalSystem system = new LocalSystem(dir, LocalSystem.Layout.freePorts())) {
            // command-service too: it takes no part in telemetry, but the three together are held to 1 GiB.
            system.startInfrastructure(null).startServices(LocalSystem.SERVICES,
                    Map.of("doppel.registry.pbkdf2-iterations", "10000"));
            Provisioner provisioner = new Provisioner(system.service("connectivity-service").baseUrl(),
                    system.tokens().password("admin", "admin"));
            for (int i = 0; i < 2 * options.devices; i++) {
                provisioner.device("bench", "dev-" + i, PASSWORD);
            }
            try (KafkaProbe probe = new KafkaProbe(system.kafka().bootstrapServers());
                    KafkaConsumer<String, byte[]> changes = probe.subscribe(Topics.TWIN_CHANGES)) {
                System.out.println("[doppel] MQTT " + system.mqttPort() + ": running load at " + Instant.now()
                        + " ...");
                String uri = "tcp://127.0.0.1:" + system.mqttPort();
                Load full = drive(uri, options, 0, 0, options.warmup, i -> "dev-" + i + "@bench", changes,
                        new CpuPerOperation(system));
                double half = full.ackedPerSecond() / 2;
                System.out.printf(Locale.ROOT, "[doppel] at half that rate, %.0f/s, at %s ...%n", half, Instant.now());
                Load paced = drive(uri, options, options.devices, half, 10, i -> "dev-" + i + "@bench", changes, null);
                for (String service : LocalSystem.SERVICES) {
                    paced.resident.put(service, ProcessStats.rss(system.service(service).process().pid()));
                }
                return new Load[] {full, paced};
            }
        }
    }

    interface Users {
        String user(int device);
    }

    /**
     * Closed loop per connection: each device keeps {@code inflight} QoS 1 publishes unacknowledged,
     * publishing the next as soon as one is acknowledged. The first {@code warmup} seconds are load
     * outside the measured window (the JIT compiles the hot paths there).
     */
    private static Load drive(String uri, Options options, int first, double rate, int warmup, Users users,
            KafkaConsumer<String, byte[]> changes, CpuPerOperation cpu) throws Exception {
        int devices = options.devices;
        Load load = new Load();
        load.cpu = cpu;
        load.offered = rate;
        // Paced: each device publishes on its own schedule, rate / devices per second (still bounded in flight).
        long intervalNanos = rate > 0 ? (long) (1e9 * devices / rate) : 0;
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong[] lastAcked = new AtomicLong[devices];
        List<MqttAsyncClient> clients = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            MqttAsyncClient c = new MqttAsyncClient(uri, "bench-" + (first + i), new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            o.setSocketFactory(NoDelaySockets.INSTANCE);
            o.setMaxInflight(Math.max(10, options.inflight * 2));
            String user = users.user(first + i);
            if (user != null) {
                o.setUserName(user);
                o.setPassword(PASSWORD.toCharArray());
            }
            c.connect(o).waitForCompletion(30_000);
            clients.add(c);
            lastAcked[i] = new AtomicLong(-1);
        }
        Instant windowStart = Instant.now().plusSeconds(warmup);
        Instant windowEnd = windowStart.plusSeconds(options.seconds);
        long startNanos = System.nanoTime();
        long windowStartNanos = startNanos + Duration.ofSeconds(warmup).toNanos();
        long windowEndNanos = windowStartNanos + Duration.ofSeconds(options.seconds).toNanos();
        CountDownLatch done = new CountDownLatch(devices);
        for (int i = 0; i < devices; i++) {
            int device = i;
            MqttAsyncClient c = clients.get(i);
            Thread.ofPlatform().daemon().name("device-" + i).start(() -> {
                Semaphore window = new Semaphore(options.inflight);
                long seq = 0;
                try {
                    while (running.get()) {
                        if (intervalNanos > 0) {
                            // Spread over the interval so the devices do not publish in step.
                            long due = startNanos + intervalNanos * device / devices + intervalNanos * seq;
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                LockSupport.parkNanos(wait);
                            }
                        }
                        window.acquire();
                        long sentMicros = micros(Instant.now());
                        String json = "{\"seq\":" + seq + ",\"sentAt\":" + sentMicros + "}";
                        long t0 = System.nanoTime();
                        long mySeq = seq;
                        c.publish("telemetry", json.getBytes(StandardCharsets.UTF_8), 1, false, null,
                                new IMqttActionListener() {
                                    @Override
                                    public void onSuccess(IMqttToken token) {
                                        long t1 = System.nanoTime();
                                        if (t0 >= windowStartNanos && t1 <= windowEndNanos) {
                                            load.ackLatency.recordValue((t1 - t0) / 1000);
                                            load.acked.incrementAndGet();
                                        }
                                        lastAcked[device].accumulateAndGet(mySeq, Math::max);
                                        window.release();
                                    }

                                    @Override
                                    public void onFailure(IMqttToken token, Throwable e) {
                                        System.err.println("device " + device + " publish failed: " + e);
                                        running.set(false);
                                        window.release();
                                    }
                                });
                        seq++;
                    }
                    window.acquire(options.inflight); // all answered
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
        boolean opened = false;
        while (Instant.now().isBefore(windowEnd)) { // the warm-up's changes are read too, never counted
            if (cpu != null && !opened && !Instant.now().isBefore(windowStart)) {
                cpu.opened();
                opened = true;
            }
            if (changes != null) {
                poll(changes, load, first, lastSeenSeq, windowStartMicros, windowEndMicros);
            } else {
                Thread.sleep(100);
            }
        }
        if (cpu != null && opened) {
            cpu.closed(load.acked.get());
        }
        running.set(false);
        done.await();
        load.seconds = options.seconds;
        if (changes != null) {
            // Drain: every acknowledged value must reach its twin.
            long drainDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < drainDeadline && !allSeen(lastSeenSeq, lastAcked)) {
                poll(changes, load, first, lastSeenSeq, windowStartMicros, windowEndMicros);
            }
            for (int i = 0; i < devices; i++) {
                load.missing += Math.max(0, lastAcked[i].get() - lastSeenSeq[i]);
            }
        }
        for (MqttAsyncClient c : clients) {
            c.disconnect().waitForCompletion(10_000);
            c.close();
        }
        return load;
    }

    private static void poll(KafkaConsumer<String, byte[]> changes, Load load, int first, long[] lastSeenSeq,
            long windowStart, long windowEnd) {
        for (ConsumerRecord<String, byte[]> r : changes.poll(Duration.ofMillis(100))) {
            long now = micros(Instant.now());
            TwinChanged change = KafkaProbe.read(r, TwinChanged.class);
            Object sent = change.changes().get("features/telemetry/properties/sentAt");
            Object seq = change.changes().get("features/telemetry/properties/seq");
            if (!(sent instanceof Number s) || !(seq instanceof Number q)) {
                continue;
            }
            int device = Integer.parseInt(change.thingId().substring(change.thingId().indexOf("dev-") + 4)) - first;
            if (device < 0 || device >= lastSeenSeq.length) {
                continue; // another run's device
            }
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

package dev.doppel.benchmarks;

import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.ServiceProcess;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * How many MQTT connections connectivity-service holds, how fast they come up and what each costs
 * in memory. N devices, each registered with its own password, connect with a fixed number of
 * connects in flight (Vert.x MQTT client: all connections on two event-loop threads), stay connected
 * for a hold period with keep-alive pings, and a sample of them then publishes one QoS 1 message
 * each, which must be acknowledged. The reference, in the same run, is the same N connections to
 * Debian's mosquitto with a password file of the same N users.
 *
 * <pre>./doppel bench connections [--connections 10000] [--hold 30] [--in-flight 100] [--pbkdf2-iterations 1000]</pre>
 */
public final class ConnectionsBenchmark {

    private static final String PASSWORD = "bench-secret";
    private static final int SAMPLE = 100;
    /** Below the hold, so every connection also proves its keep-alive. */
    private static final int KEEP_ALIVE_SECONDS = 20;
    private static final int WARM_UP = 500;

    /** What one run measured. */
    record Run(int connected, double connectSeconds, int heldAfterHold, int sampleAcked, int sample, long rssBefore,
            long rssAfter, long heapBefore, long heapAfter) {

        double connectsPerSecond() {
            return connected / connectSeconds;
        }

        double rssPerConnectionKb() {
            return (rssAfter - rssBefore) / 1024.0 / Math.max(1, connected);
        }
    }

    /** The process being measured: its memory before and while holding the connections. */
    interface Server {
        long rss() throws Exception;

        /** The live heap after a full collection, or -1 where there is no JVM. */
        long heap() throws Exception;

        /** Connections the server itself counts, or -1 where it does not tell. */
        int connections() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int connections = 10_000;
        int hold = 30;
        int inFlight = 100;
        int iterations = 1000;
        int parallelProvisioning = 8;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--hold" -> hold = Integer.parseInt(args[++i]);
                case "--in-flight" -> inFlight = Integer.parseInt(args[++i]);
                case "--pbkdf2-iterations" -> iterations = Integer.parseInt(args[++i]);
                case "--provisioning-parallel" -> parallelProvisioning = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String[] limits = ProcessStats.openFilesLimits();
        long limit = "unlimited".equals(limits[0]) ? Long.MAX_VALUE : Long.parseLong(limits[0]);
        // This JVM holds one socket per connection, and so does the server (a child: it inherits the limit).
        if (limit < connections + 1000L) {
            System.err.printf(Locale.ROOT, "The open-file limit is %d, and %d connections need about %d in this process "
                    + "and in the server each. Raise it (ulimit -n, up to the hard limit %s) or pass a smaller "
                    + "--connections.%n", limit, connections, connections + 1000, limits[1]);
            System.exit(2);
        }
        System.out.printf(Locale.ROOT, "Connections benchmark: %d MQTT connections, %d connects in flight, hold %d s "
                + "(keep-alive %d s), open-file limit %s, %d cores%n", connections, inFlight, hold, KEEP_ALIVE_SECONDS,
                limits[0], Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "Device passwords hashed with PBKDF2 at %d iterations (production: 100,000): "
                + "this measures holding connections, not hashing%n", iterations);
        Path dir = Files.createTempDirectory("doppel-bench-connections-");
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));

        Run reference;
        Map<String, String> users = new LinkedHashMap<>();
        for (int i = 0; i < connections; i++) {
            users.put("dev-" + i, PASSWORD);
        }
        try (Mosquitto mosquitto = Mosquitto.start(dir, users)) {
            Server server = new Server() {
                @Override
                public long rss() throws Exception {
                    return ProcessStats.rss(mosquitto.pid());
                }

                @Override
                public long heap() {
                    return -1;
                }

                @Override
                public int connections() {
                    return -1;
                }
            };
            reference = run("[reference]", vertx, mosquitto.port(), connections, inFlight, hold, i -> "dev-" + i, server);
        }

        Run doppel;
        try (LocalSystem system = new LocalSystem(dir, LocalSystem.Layout.freePorts())) {
            System.out.println("[doppel] starting Kafka, MongoDB stand-in, Keycloak and connectivity-service ...");
            system.startInfrastructure(null).startServices(List.of("connectivity-service"),
                    Map.of("doppel.registry.pbkdf2-iterations", Integer.toString(iterations)));
            ServiceProcess connectivity = system.service("connectivity-service");
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                ids.add("dev-" + i);
            }
            new Fleet(system).register("bench", ids, PASSWORD, null, parallelProvisioning);
            long pid = connectivity.process().pid();
            Server server = new Server() {
                @Override
                public long rss() throws Exception {
                    return ProcessStats.rss(pid);
                }

                @Override
                public long heap() throws Exception {
                    return ProcessStats.liveHeap(pid, connectivity.managementUrl());
                }

                @Override
                public int connections() throws Exception {
                    return (int) ProcessStats.metric(connectivity.managementUrl(), "doppel_mqtt_connections", "");
                }
            };
            doppel = run("[doppel]", vertx, system.mqttPort(), connections, inFlight, hold, i -> "dev-" + i + "@bench",
                    server);
            String log = connectivity.process().log().toString();
            System.out.println("[doppel] connectivity-service log: " + log);
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        System.out.println();
        System.out.println("| measure | mosquitto (reference) | doppel | ratio |");
        System.out.println("|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| connections established (of %d) | %d | %d | %.2f |%n", connections,
                reference.connected(), doppel.connected(), doppel.connected() / (double) reference.connected());
        System.out.printf(Locale.ROOT, "| connections still open after %d s | %d | %d | %.2f |%n", hold,
                reference.heldAfterHold(), doppel.heldAfterHold(),
                doppel.heldAfterHold() / (double) reference.heldAfterHold());
        ClosedLoop.row("time to connect all, s", reference.connectSeconds(), doppel.connectSeconds());
        ClosedLoop.row("connects /s", reference.connectsPerSecond(), doppel.connectsPerSecond());
        ClosedLoop.row("server RSS before, MB", mb(reference.rssBefore()), mb(doppel.rssBefore()));
        ClosedLoop.row("server RSS holding them, MB", mb(reference.rssAfter()), mb(doppel.rssAfter()));
        ClosedLoop.row("server RSS per connection, KB", reference.rssPerConnectionKb(), doppel.rssPerConnectionKb());
        System.out.printf(Locale.ROOT, "| live heap before / holding them, MB | - | %.1f / %.1f | |%n",
                mb(doppel.heapBefore()), mb(doppel.heapAfter()));
        System.out.printf(Locale.ROOT, "| live heap per connection, KB | - | %.1f | |%n",
                (doppel.heapAfter() - doppel.heapBefore()) / 1024.0 / Math.max(1, doppel.connected()));
        System.out.printf(Locale.ROOT, "| sample QoS 1 telemetry acknowledged after the hold | %d of %d | %d of %d | |%n",
                reference.sampleAcked(), reference.sample(), doppel.sampleAcked(), doppel.sample());
        System.exit(0);
    }

    private static double mb(long bytes) {
        return bytes / 1024.0 / 1024.0;
    }

    /** Clients that connected, of those that tried, and how long all took to settle. */
    record Connected(List<MqttClient> clients, int connected, double seconds, List<String> failures) {
    }

    private static Run run(String label, Vertx vertx, int port, int n, int inFlight, int hold, IntFunction<String> user,
            Server server) throws Exception {
        long rssBefore = server.rss();
        long heapBefore = server.heap();
        // Warm-up, not measured: the client's (and a JVM server's) code paths get compiled.
        disconnect(connect(vertx, port, Math.min(n, WARM_UP), inFlight, user, new AtomicInteger(),
                new ConcurrentHashMap<>()).clients());
        Map<Integer, CompletableFuture<Void>> acks = new ConcurrentHashMap<>();
        AtomicInteger dropped = new AtomicInteger();
        System.out.printf(Locale.ROOT, "%s connecting %d clients ...%n", label, n);
        Connected c = connect(vertx, port, n, inFlight, user, dropped, acks);
        System.out.printf(Locale.ROOT, "%s %d of %d connected in %.1f s (%.0f /s); server counts %d%n", label,
                c.connected(), n, c.seconds(), c.connected() / c.seconds(), server.connections());
        c.failures().forEach(f -> System.out.println(label + " connect failed: " + f));
        long rssAfter = server.rss();
        System.out.printf(Locale.ROOT, "%s holding for %d s ...%n", label, hold);
        Thread.sleep(TimeUnit.SECONDS.toMillis(hold));
        int held = (int) c.clients().stream().filter(MqttClient::isConnected).count();
        System.out.printf(Locale.ROOT, "%s after the hold: %d open, %d dropped; server counts %d%n", label, held,
                dropped.get(), server.connections());
        int sampleAcked = sample(c.clients(), acks, n);
        long heapAfter = server.heap();
        System.out.printf(Locale.ROOT, "%s server RSS %.1f MB → %.1f MB%s%n", label, mb(rssBefore), mb(rssAfter),
                heapAfter < 0 ? "" : String.format(Locale.ROOT, ", live heap %.1f MB → %.1f MB", mb(heapBefore),
                        mb(heapAfter)));
        disconnect(c.clients());
        return new Run(c.connected(), c.seconds(), held, sampleAcked, Math.min(SAMPLE, n), rssBefore, rssAfter,
                heapBefore, heapAfter);
    }

    /** Connects clients 0 to n-1 with at most {@code inFlight} connects outstanding. */
    private static Connected connect(Vertx vertx, int port, int n, int inFlight, IntFunction<String> user,
            AtomicInteger dropped, Map<Integer, CompletableFuture<Void>> acks) throws InterruptedException {
        List<MqttClient> clients = new ArrayList<>(n);
        AtomicInteger connected = new AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Semaphore window = new Semaphore(inFlight);
        CountDownLatch settled = new CountDownLatch(n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            window.acquire();
            int index = i;
            MqttClientOptions options = new MqttClientOptions().setClientId("bench-" + i).setUsername(user.apply(i))
                    .setPassword(PASSWORD).setCleanSession(true).setKeepAliveInterval(KEEP_ALIVE_SECONDS)
                    .setAutoKeepAlive(true);
            options.setConnectTimeout(30_000);
            MqttClient c = MqttClient.create(vertx, options);
            clients.add(c);
            c.publishCompletionHandler(packetId -> {
                CompletableFuture<Void> f = acks.remove(index);
                if (f != null) {
                    f.complete(null);
                }
            });
            c.connect(port, "127.0.0.1").toCompletionStage().toCompletableFuture().orTimeout(120, TimeUnit.SECONDS)
                    .whenComplete((ack, failure) -> {
                        if (failure == null) {
                            connected.incrementAndGet();
                            c.closeHandler(v -> dropped.incrementAndGet());
                        } else if (failures.size() < 5) {
                            failures.add(failure.toString());
                        }
                        window.release();
                        settled.countDown();
                    });
        }
        settled.await();
        return new Connected(clients, connected.get(), (System.nanoTime() - t0) / 1e9, failures);
    }

    private static void disconnect(List<MqttClient> clients) throws Exception {
        CompletableFuture<?>[] closing = clients.stream().filter(MqttClient::isConnected)
                .map(c -> c.disconnect().toCompletionStage().toCompletableFuture()).toArray(CompletableFuture[]::new);
        CompletableFuture.allOf(closing).handle((v, t) -> null).get(60, TimeUnit.SECONDS);
    }

    /** Every (n/SAMPLE)th client publishes one QoS 1 message; counts the PUBACKs within 30 s. */
    private static int sample(List<MqttClient> clients, Map<Integer, CompletableFuture<Void>> acks, int n)
            throws InterruptedException {
        int step = Math.max(1, n / SAMPLE);
        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        for (int i = 0; i < n && waiting.size() < SAMPLE; i += step) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            waiting.add(f);
            MqttClient c = clients.get(i);
            if (!c.isConnected()) {
                continue;
            }
            acks.put(i, f);
            c.publish("telemetry", Buffer.buffer("{\"temperature\":21.5}"), MqttQoS.AT_LEAST_ONCE, false, false);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int acked = 0;
        for (CompletableFuture<Void> f : waiting) {
            try {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                acked++;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // not acknowledged in time
            }
        }
        return acked;
    }

    private ConnectionsBenchmark() {
    }
}

package dev.doppel.benchmarks;

import dev.doppel.benchmarks.ClosedLoop.Result;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Provisioner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.eclipse.paho.client.mqttv3.IMqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * Command round trips (REST in, the MQTT device answers, the answer is the REST response) at
 * concurrency 1 and 32, and how fast queued commands drain when 1,000 offline devices connect. Each is
 * measured against Debian's mosquitto in the same run: an MQTT request/response round trip between two
 * clients, and the broker's own offline queue (persistent sessions) draining to the same number of
 * reconnecting clients.
 *
 * <p>Every MQTT client here (the reference's requester and responder, doppel's answering devices)
 * sends with TCP_NODELAY: with Nagle's algorithm a client's answer waits for the acknowledgement of its
 * PUBACK, about 40 ms per round trip, and both sides would measure the client instead of the broker.
 * Doppel's services are warmed up at concurrency 32 first ({@code --warmup}, seconds), so the JIT
 * compiler is not part of the figure.
 *
 * <pre>./doppel bench command [--seconds 10] [--warmup 15] [--devices 1000] [--finished 100000]</pre>
 */
public final class CommandBenchmark {

    private static final String PASSWORD = "bench-secret";
    private static final int ANSWERING_DEVICES = 8;

    interface RoundTrip {
        boolean run(int worker) throws Exception;
    }

    private static Result measure(int concurrency, int seconds, RoundTrip op) throws InterruptedException {
        return measure(concurrency, seconds, op, null);
    }

    private static Result measure(int concurrency, int seconds, RoundTrip op, ClosedLoop.Window window)
            throws InterruptedException {
        // The clock time, to find the window in a profile taken meanwhile.
        System.out.printf(Locale.ROOT, "[%s] concurrency %d for %d s (after a third of that as warm-up)%n",
                java.time.LocalTime.now().withNano(0), concurrency, seconds);
        return ClosedLoop.measure(concurrency, Math.max(1, seconds / 3), seconds, (worker, random) -> op.run(worker),
                window);
    }


    public static void main(String[] args) throws Exception {
        int seconds = 10;
        int devices = 1000;
        int warmup = 15;
        int finished = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--devices" -> devices = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                // Measure concurrency 32 again after this many finished commands are in the store.
                case "--finished" -> finished = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        System.out.printf(Locale.ROOT, "Command benchmark: %d s per measure, %d reconnecting devices, %d cores%n",
                seconds, devices, Runtime.getRuntime().availableProcessors());
        Path dir = Files.createTempDirectory("doppel-bench-command-");

        Result[] reference = new Result[2];
        double referenceDrain;
        try (Mosquitto mosquitto = Mosquitto.start(dir)) {
            String uri = mosquitto.uri();
            reference[0] = mqttRoundTrips(uri, 1, seconds);
            reference[1] = mqttRoundTrips(uri, 32, seconds);
            referenceDrain = mqttDrain(uri, devices);
        }

        Result[] ours = new Result[2];
        CpuPerOperation cpu;
        Result afterFinished = null;
        CpuPerOperation cpuAfterFinished = null;
        double drain;
        try (LocalSystem system = new LocalSystem(dir, LocalSystem.Layout.freePorts())) {
            System.out.println("[doppel] starting Kafka, MongoDB stand-in, Keycloak and the three services ...");
            system.startInfrastructure(null).startServices(LocalSystem.SERVICES, Map.of(
                    "doppel.registry.pbkdf2-iterations", "1000", "doppel.commands.max-timeout", "60s"));
            Provisioner provisioner = new Provisioner(system.service("connectivity-service").baseUrl(),
                    system.tokens().password("admin", "admin"));
            String token = system.tokens().password("olivia", "olivia");
            String mqtt = "tcp://127.0.0.1:" + system.mqttPort();
            String base = system.service("command-service").baseUrl();
            List<MqttClient> answering = new ArrayList<>();
            for (int i = 0; i < ANSWERING_DEVICES; i++) {
                provisioner.device("demo", "bench-act-" + i, PASSWORD);
                answering.add(answeringDevice(mqtt, "bench-act-" + i));
            }
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            RoundTrip roundTrip = w -> http.send(HttpRequest.newBuilder(URI.create(base
                            + "/api/2/things/demo:bench-act-" + (w % ANSWERING_DEVICES) + "/inbox/messages/ping?timeout=30s"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(40)).POST(HttpRequest.BodyPublishers.ofString("{\"n\":1}")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
            Thread.sleep(2000); // the devices' subscriptions reach the router
            System.out.println("[doppel] warming up for " + warmup + " s at concurrency 32 ...");
            measure(32, warmup, roundTrip);
            ours[0] = measure(1, seconds, roundTrip);
            cpu = new CpuPerOperation(system);
            ours[1] = measure(32, seconds, roundTrip, cpu);
            if (finished > 0) {
                storeFinishedCommands(system, finished);
                cpuAfterFinished = new CpuPerOperation(system);
                afterFinished = measure(32, seconds, roundTrip, cpuAfterFinished);
            }
            for (MqttClient c : answering) {
                c.disconnect();
            }
            drain = doppelDrain(system, provisioner, http, token, devices);
        }

        System.out.println();
        System.out.println("| measure | mosquitto (reference) | doppel | ratio |");
        System.out.println("|---|---|---|---|");
        for (int i = 0; i < 2; i++) {
            int c = i == 0 ? 1 : 32;
            ClosedLoop.row("round trips /s, concurrency " + c, reference[i].perSecond(), ours[i].perSecond());
            ClosedLoop.row("round trip p50 ms, concurrency " + c, reference[i].ms(50), ours[i].ms(50));
            ClosedLoop.row("round trip p99 ms, concurrency " + c, reference[i].ms(99), ours[i].ms(99));
        }
        ClosedLoop.row("queued commands drained /s, " + devices + " devices reconnecting", referenceDrain, drain);
        System.out.printf(Locale.ROOT, "| errors | %d | %d | |%n", reference[0].errors() + reference[1].errors(),
                ours[0].errors() + ours[1].errors());
        cpu.print("round trip, concurrency 32");
        if (afterFinished != null) {
            ClosedLoop.row("round trips /s, concurrency 32, " + finished + " finished commands stored", ours[1].perSecond(),
                    afterFinished.perSecond());
            ClosedLoop.row("round trip p99 ms, concurrency 32, " + finished + " finished commands stored",
                    ours[1].ms(99), afterFinished.ms(99));
            cpuAfterFinished.print("round trip, concurrency 32, " + finished + " finished commands stored");
        }
        System.exit(0);
    }

    /** Requesters publish req/{id}; one responder answers on res/{id}; a round trip ends when the answer arrives. */
    private static Result mqttRoundTrips(String uri, int concurrency, int seconds) throws Exception {
        MqttClient responder = new MqttClient(uri, "responder-" + UUID.randomUUID(), new MemoryPersistence());
        responder.connect(options(null));
        responder.subscribe("req/#", 1, (topic, msg) -> {
            String id = topic.substring(4);
            Thread.ofVirtual().start(() -> {
                try {
                    responder.publish("res/" + id, msg.getPayload(), 1, false);
                } catch (MqttException e) {
                    throw new IllegalStateException(e);
                }
            });
        });
        MqttClient requester = new MqttClient(uri, "requester-" + UUID.randomUUID(), new MemoryPersistence());
        requester.connect(options(null));
        Map<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();
        requester.subscribe("res/#", 1, (topic, msg) -> {
            CompletableFuture<Void> f = waiting.remove(topic.substring(4));
            if (f != null) {
                f.complete(null);
            }
        });
        try {
            return measure(concurrency, seconds, w -> {
                String id = UUID.randomUUID().toString();
                CompletableFuture<Void> answer = new CompletableFuture<>();
                waiting.put(id, answer);
                requester.publish("req/" + id, "{\"n\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
                answer.get(30, TimeUnit.SECONDS);
                return true;
            });
        } finally {
            requester.disconnect();
            responder.disconnect();
        }
    }

    /** Persistent sessions: N clients subscribe and leave, one message each is queued, all reconnect. */
    private static double mqttDrain(String uri, int devices) throws Exception {
        List<String> ids = new ArrayList<>();
        List<Connecting> sessions = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            String id = "drain-" + i;
            ids.add(id);
            sessions.add(new Connecting(new MqttAsyncClient(uri, id, new MemoryPersistence()), options(false)));
        }
        // Create the sessions, many at a time, then leave.
        connectAll(sessions, "cmd/");
        for (Connecting c : sessions) {
            c.client().disconnect().waitForCompletion(10_000);
            c.client().close();
        }
        MqttClient sender = new MqttClient(uri, "drain-sender", new MemoryPersistence());
        sender.connect(options(null));
        for (String id : ids) {
            sender.publish("cmd/" + id, "{\"n\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
        }
        sender.disconnect();
        return reconnectAll(ids, id -> {
            MqttAsyncClient c = new MqttAsyncClient(uri, id, new MemoryPersistence());
            return new Connecting(c, options(false));
        }, "[reference] broker's offline queue");
    }

    /** Connects (and, for a topic prefix, subscribes) every client with many connects in flight at once. */
    private static void connectAll(List<Connecting> clients, String topicPrefix) throws Exception {
        List<org.eclipse.paho.client.mqttv3.IMqttToken> pending = new ArrayList<>();
        for (Connecting c : clients) {
            pending.add(c.client().connect(c.options()));
            if (pending.size() == 50) {
                awaitAll(pending);
            }
        }
        awaitAll(pending);
        for (Connecting c : clients) {
            if (!c.client().isConnected()) {
                retrying(() -> c.client().connect(c.options()).waitForCompletion(10_000));
            }
            String topic = topicPrefix == null ? "command///req/#" : topicPrefix + c.client().getClientId();
            pending.add(c.client().subscribe(topic, 1));
            if (pending.size() == 50) {
                awaitAll(pending);
            }
        }
        awaitAll(pending);
    }

    private static void awaitAll(List<org.eclipse.paho.client.mqttv3.IMqttToken> tokens) {
        for (var t : tokens) {
            try {
                t.waitForCompletion(10_000);
            } catch (MqttException e) {
                // counted as missing at the end, or retried by the caller
            }
        }
        tokens.clear();
    }

    private static double doppelDrain(LocalSystem system, Provisioner provisioner, HttpClient http, String token,
            int devices) throws Exception {
        System.out.println("[doppel] provisioning " + devices + " devices and queueing one command each ...");
        String base = system.service("command-service").baseUrl();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            String id = "bench-off-" + i;
            ids.add(id);
            provisioner.device("demo", id, PASSWORD);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/commands"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"thingId\":\"demo:" + id
                            + "\",\"subject\":\"wake\",\"payload\":{\"n\":1},\"ttl\":\"30m\",\"responseRequired\":false}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 202) {
                throw new IllegalStateException("queueing failed: " + r.statusCode() + " " + r.body());
            }
        }
        String mqtt = "tcp://127.0.0.1:" + system.mqttPort();
        return reconnectAll(ids, id -> {
            MqttAsyncClient c = new MqttAsyncClient(mqtt, id + "-" + UUID.randomUUID(), new MemoryPersistence());
            MqttConnectOptions o = options(true);
            o.setUserName(id + "@demo");
            o.setPassword(PASSWORD.toCharArray());
            return new Connecting(c, o);
        }, "[doppel] queued commands");
    }

    record Connecting(IMqttAsyncClient client, MqttConnectOptions options) {
    }

    interface ClientFactory {
        Connecting create(String id) throws MqttException;
    }

    /** Connects every client, subscribed to its commands, and times until each has its message. */
    private static double reconnectAll(List<String> ids, ClientFactory factory, String label) throws Exception {
        CountDownLatch all = new CountDownLatch(ids.size());
        List<IMqttAsyncClient> clients = new ArrayList<>();
        List<Connecting> connecting = new ArrayList<>();
        for (String id : ids) {
            Connecting c = factory.create(id);
            connecting.add(c);
            clients.add(c.client());
            boolean[] counted = new boolean[1];
            c.client().setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                }

                @Override
                public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage message) {
                    synchronized (counted) {
                        if (!counted[0]) {
                            counted[0] = true;
                            all.countDown();
                        }
                    }
                }

                @Override
                public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
                }
            });
        }
        long t0 = System.nanoTime();
        // Persistent sessions get their queue on connect; clean sessions (doppel's devices) subscribe.
        if (connecting.get(0).options().isCleanSession()) {
            connectAll(connecting, null);
        } else {
            List<org.eclipse.paho.client.mqttv3.IMqttToken> pending = new ArrayList<>();
            for (Connecting c : connecting) {
                pending.add(c.client().connect(c.options()));
                if (pending.size() == 50) {
                    awaitAll(pending);
                }
            }
            awaitAll(pending);
        }
        boolean done = all.await(300, TimeUnit.SECONDS);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        long got = ids.size() - all.getCount();
        System.out.printf(Locale.ROOT, "%s: %d of %d received in %.1f s (connects included)%s%n", label, got,
                ids.size(), elapsed, done ? "" : " - INCOMPLETE");
        for (IMqttAsyncClient c : clients) {
            try {
                c.disconnect().waitForCompletion(5_000);
                c.close();
            } catch (MqttException e) {
                // leaving anyway
            }
        }
        return got / elapsed;
    }

    interface MqttStep {
        void run() throws MqttException;
    }

    /**
     * Writes finished commands straight into command-service's store, as a week of traffic leaves
     * them (kept {@code doppel.commands.retention}, 7 days): ended, answered, spread over 1,000 devices.
     */
    private static void storeFinishedCommands(LocalSystem system, int n) {
        System.out.printf(Locale.ROOT, "[doppel] storing %d finished commands ...%n", n);
        try (com.mongodb.client.MongoClient mongo = com.mongodb.client.MongoClients.create(
                system.mongo().connectionString())) {
            var commands = mongo.getDatabase("doppel-commands").getCollection("commands");
            java.util.Date at = new java.util.Date(System.currentTimeMillis() - 3_600_000);
            List<org.bson.Document> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String thing = "demo:finished-" + (i % 1000);
                batch.add(new org.bson.Document("_id", UUID.randomUUID().toString()).append("thingId", thing)
                        .append("tenant", "demo").append("subject", "ping").append("contentType", "application/json")
                        .append("payload", new org.bson.types.Binary("{\"n\":1}".getBytes(StandardCharsets.UTF_8)))
                        .append("responseRequired", true).append("timeoutMs", 30_000L).append("ttlMs", 0L)
                        .append("expiresAt", null).append("createdAt", at).append("deadline", at)
                        .append("status", "SUCCEEDED").append("modifiedAt", at)
                        .append("response", new org.bson.Document("statusCode", 200).append("contentType", "text/plain")
                                .append("payload", new org.bson.types.Binary("ok".getBytes(StandardCharsets.UTF_8))))
                        .append("history", List.of(new org.bson.Document("status", "QUEUED").append("at", at),
                                new org.bson.Document("status", "SENT").append("at", at),
                                new org.bson.Document("status", "DELIVERED").append("at", at),
                                new org.bson.Document("status", "SUCCEEDED").append("at", at))));
                if (batch.size() == 1000) {
                    commands.insertMany(batch);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                commands.insertMany(batch);
            }
        }
    }

    /** Paho now and then never completes a connect among many clients: give each step three tries. */
    private static void retrying(MqttStep step) throws MqttException {
        for (int attempt = 1;; attempt++) {
            try {
                step.run();
                return;
            } catch (MqttException e) {
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    private static MqttClient answeringDevice(String uri, String deviceId) throws MqttException {
        MqttClient c = new MqttClient(uri, deviceId + "-" + UUID.randomUUID(), new MemoryPersistence());
        MqttConnectOptions o = options(true);
        o.setUserName(deviceId + "@demo");
        o.setPassword(PASSWORD.toCharArray());
        c.connect(o);
        c.subscribe("command///req/#", 1, (topic, msg) -> {
            String requestId = topic.split("/", -1)[4];
            Thread.ofVirtual().start(() -> {
                try {
                    c.publish("command///res/" + requestId + "/200", msg.getPayload(), 1, false);
                } catch (MqttException e) {
                    throw new IllegalStateException(e);
                }
            });
        });
        return c;
    }

    private static MqttConnectOptions options(Boolean cleanSession) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setSocketFactory(NoDelaySockets.INSTANCE);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setMaxInflight(1000);
        o.setConnectionTimeout(30);
        if (cleanSession != null) {
            o.setCleanSession(cleanSession);
        }
        return o;
    }

    private CommandBenchmark() {
    }
}

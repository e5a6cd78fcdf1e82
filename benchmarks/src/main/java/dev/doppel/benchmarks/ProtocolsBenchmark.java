package dev.doppel.benchmarks;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.doppel.benchmarks.ClosedLoop.Result;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Ports;
import dev.doppel.devstack.testing.KafkaProbe;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.bson.Document;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedMultiPskStore;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * Telemetry accepted per second by each device protocol, with a fixed number of devices (default 32)
 * each sending in a closed loop: send, wait for the adapter's acknowledgement (MQTT PUBACK at QoS 1,
 * HTTP 202, CoAP 2.04 to a confirmable POST, plain and over DTLS with a pre-shared key), send again.
 * Doppel acknowledges only once Kafka has the event ({@code acks=all}), and twin-service applies it.
 *
 * <p>Each protocol has its reference in the same run: the same clients against a server that
 * acknowledges and does nothing else (Debian's mosquitto; a bare Vert.x HTTP server answering 202; a
 * bare Californium server answering 2.04, plain and with DTLS). A raw Kafka producer ({@code acks=all},
 * the same broker, the same number of threads) shows the floor every Doppel acknowledgement waits for.
 * At the end, every device's twin must hold the last value the device was told was accepted.
 *
 * <pre>./doppel bench protocols [--clients 32] [--seconds 15] [--pbkdf2-iterations 10000] [--warmup 5] [--without-twins]
 *     [--protocols mqtt,http,coap,coaps]</pre>
 */
public final class ProtocolsBenchmark {

    private static final String TENANT = "bench";
    private static final String PASSWORD = "bench-secret";
    private static final String PSK = "bench-psk-0123456789";
    private static final String[] PROTOCOLS = {"mqtt", "http", "coap", "coaps"};

    /** Sends one message for a device (a worker) and tells whether it was acknowledged. */
    interface Sender {
        boolean send(int worker, byte[] payload) throws Exception;
    }

    record Row(String protocol, String reference, Result ref, Result ours) {
    }

    public static void main(String[] args) throws Exception {
        int clients = 32;
        int seconds = 15;
        int iterations = 10_000;
        int warmup = -1;
        boolean twins = true;
        List<String> protocols = List.of(PROTOCOLS);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--pbkdf2-iterations" -> iterations = Integer.parseInt(args[++i]);
                // Unmeasured load before each measure (default a third of --seconds): the JIT's time.
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                // Diagnosis: connectivity-service alone, without twin-service taking its share of the cores.
                case "--without-twins" -> twins = false;
                // A subset, say mqtt,http: each protocol's reference and doppel's figure are measured alike.
                case "--protocols" -> protocols = List.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        for (String p : protocols) {
            if (!List.of(PROTOCOLS).contains(p)) {
                throw new IllegalArgumentException("unknown protocol " + p + "; one of " + List.of(PROTOCOLS));
            }
        }
        warmupSeconds = warmup >= 0 ? warmup : Math.max(1, seconds / 3);
        System.out.printf(Locale.ROOT, "Protocols benchmark: %d clients per protocol, closed loop, %d s per measure "
                + "after %d s of warm-up, %d cores%n", clients, seconds, warmupSeconds,
                Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "Device passwords hashed with PBKDF2 at %d iterations (production: 100,000); "
                + "the HTTP adapter checks the password on every request%n", iterations);
        Path dir = Files.createTempDirectory("doppel-bench-protocols-");
        CoapConfig.register();
        UdpConfig.register();
        DtlsConfig.register();
        int n = clients;
        IntFunction<String> basic = w -> "Basic " + Base64.getEncoder()
                .encodeToString(("http-" + w + "@" + TENANT + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));

        Map<String, Result> references = new LinkedHashMap<>();
        if (protocols.contains("mqtt")) {
            try (Mosquitto mosquitto = Mosquitto.start(dir)) {
                references.put("mqtt", mqtt(mosquitto.uri(), n, seconds, w -> null, null, null));
            }
        }
        if (protocols.contains("http")) {
            Vertx vertx = Vertx.vertx();
            HttpServer bareHttp = vertx.createHttpServer().requestHandler(req -> req.body()
                    .onComplete(body -> req.response().setStatusCode(202).end()));
            int httpPort = bareHttp.listen(Ports.free(), "127.0.0.1").toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS).actualPort();
            System.out.println("[reference] bare Vert.x HTTP server on " + httpPort);
            references.put("http", http("http://127.0.0.1:" + httpPort + "/telemetry", n, seconds, basic, null, null));
            bareHttp.close();
            vertx.close();
        }
        if (protocols.contains("coap") || protocols.contains("coaps")) {
            CoapServer bareCoap = bareCoapServer(n);
            try {
                int plain = bareCoap.getEndpoints().get(0).getAddress().getPort();
                int secure = bareCoap.getEndpoints().get(1).getAddress().getPort();
                System.out.println("[reference] bare Californium server on udp " + plain + " (coap) and " + secure
                        + " (coaps)");
                if (protocols.contains("coap")) {
                    references.put("coap", coap(w -> "coap://127.0.0.1:" + plain + "/telemetry/" + TENANT + "/coap-"
                            + w, w -> null, n, seconds, null, null));
                }
                if (protocols.contains("coaps")) {
                    references.put("coaps", coap(w -> "coaps://127.0.0.1:" + secure + "/telemetry", w -> "coaps-" + w
                            + "@" + TENANT, n, seconds, null, null));
                }
            } finally {
                bareCoap.destroy();
            }
        }

        Map<String, Result> ours = new LinkedHashMap<>();
        Map<String, long[]> lastAcked = new LinkedHashMap<>();
        for (String p : protocols) {
            lastAcked.put(p, new long[n]);
        }
        Result kafka;
        Map<String, CpuPerOperation> cpu;
        int converged;
        try (LocalSystem system = new LocalSystem(dir, LocalSystem.Layout.freePorts())) {
            List<String> services = twins ? List.of("twin-service", "connectivity-service")
                    : List.of("connectivity-service");
            System.out.println("[doppel] starting Kafka, MongoDB stand-in, Keycloak and " + String.join(", ", services)
                    + " ...");
            system.startInfrastructure(null).startServices(services, Map.of("doppel.registry.pbkdf2-iterations", Integer.toString(iterations)));
            List<String> ids = new ArrayList<>();
            for (String p : protocols) {
                for (int w = 0; w < n; w++) {
                    ids.add(p + "-" + w);
                }
            }
            new Fleet(system).register(TENANT, ids, PASSWORD, PSK, 8);
            kafka = kafka(system, n, seconds);
            cpu = new LinkedHashMap<>();
            for (String p : protocols) {
                cpu.put(p, new CpuPerOperation(system));
            }
            if (protocols.contains("mqtt")) {
                ours.put("mqtt", mqtt("tcp://127.0.0.1:" + system.mqttPort(), n, seconds,
                        w -> "mqtt-" + w + "@" + TENANT, lastAcked.get("mqtt"), cpu.get("mqtt")));
            }
            if (protocols.contains("http")) {
                ours.put("http", http(system.service("connectivity-service").baseUrl() + "/telemetry", n, seconds,
                        basic, lastAcked.get("http"), cpu.get("http")));
            }
            if (protocols.contains("coap")) {
                ours.put("coap", coap(w -> "coap://127.0.0.1:" + system.coapPort() + "/telemetry/" + TENANT
                        + "/coap-" + w, w -> null, n, seconds, lastAcked.get("coap"), cpu.get("coap")));
            }
            if (protocols.contains("coaps")) {
                ours.put("coaps", coap(w -> "coaps://127.0.0.1:" + system.coapsPort() + "/telemetry",
                        w -> "coaps-" + w + "@" + TENANT, n, seconds, lastAcked.get("coaps"), cpu.get("coaps")));
            }
            converged = twins ? converged(system, lastAcked, n) : -1;
            System.out.println("[doppel] connectivity-service log: "
                    + system.service("connectivity-service").process().log());
        }

        Map<String, String[]> names = Map.of(
                "mqtt", new String[] {"MQTT, QoS 1 publish → PUBACK", "mosquitto"},
                "http", new String[] {"HTTP POST /telemetry → 202", "bare Vert.x HTTP server"},
                "coap", new String[] {"CoAP confirmable POST → 2.04", "bare Californium server"},
                "coaps", new String[] {"CoAP over DTLS (PSK) → 2.04", "bare Californium DTLS server"});
        List<Row> rows = protocols.stream().map(p -> new Row(names.get(p)[0], names.get(p)[1], references.get(p),
                ours.get(p))).toList();
        System.out.println();
        System.out.printf(Locale.ROOT, "| protocol, %d devices | reference | reference /s | doppel /s | ratio | doppel / "
                + "Kafka acks=all | reference p50 / p99 ms | doppel p50 / p99 ms |%n", n);
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.0f | %.3f | %.3f | %.1f / %.1f | %.1f / %.1f |%n",
                    r.protocol(), r.reference(), r.ref().perSecond(), r.ours().perSecond(),
                    r.ours().perSecond() / r.ref().perSecond(), r.ours().perSecond() / kafka.perSecond(), r.ref().ms(50),
                    r.ref().ms(99), r.ours().ms(50), r.ours().ms(99));
        }
        System.out.printf(Locale.ROOT, "| Kafka producer, acks=all, %d threads (what each doppel ack waits for) | - | - | "
                + "%.0f | | 1.00 | | %.1f / %.1f |%n", n, kafka.perSecond(), kafka.ms(50), kafka.ms(99));
        System.out.printf(Locale.ROOT, "| errors (" + String.join(", ", protocols) + ") | | %s | %s | | | | |%n",
                errors(references), errors(ours));
        for (Map.Entry<String, CpuPerOperation> c : cpu.entrySet()) {
            c.getValue().print(c.getKey() + " message");
        }
        if (twins) {
            System.out.printf(Locale.ROOT, "| twins holding their device's last acknowledged value | | | %d of %d | | | | |%n",
                    converged, n * protocols.size());
        }
        System.exit(0);
    }

    /** Set once from {@code --warmup}, before any measure. */
    private static int warmupSeconds;

    private static String errors(Map<String, Result> results) {
        return String.join(", ", results.values().stream().map(r -> Long.toString(r.errors())).toList());
    }

    /**
     * The closed loop of {@link ClosedLoop#measure}, one device per worker: each message carries the
     * device's next sequence number, and {@code lastAcked} (if given) keeps the last one acknowledged.
     */
    /** {@code cpu}: the CPU each process spends per message, for doppel's measures; null for a reference. */
    private static Result measure(int clients, int seconds, long[] lastAcked, CpuPerOperation cpu, Sender sender)
            throws InterruptedException {
        long[] next = new long[clients];
        return ClosedLoop.measure(clients, warmupSeconds, seconds, (worker, random) -> {
            long seq = next[worker]++;
            boolean ok = sender.send(worker, ("{\"seq\":" + seq + ",\"temperature\":21.5}")
                    .getBytes(StandardCharsets.UTF_8));
            if (ok && lastAcked != null) {
                lastAcked[worker] = seq;
            }
            return ok;
        }, cpu);
    }

    /** Eclipse Paho, one connection per device; {@code user} null: anonymous. */
    private static Result mqtt(String uri, int n, int seconds, IntFunction<String> user, long[] lastAcked,
            CpuPerOperation cpu)
            throws Exception {
        List<MqttClient> clients = new ArrayList<>();
        try {
            for (int w = 0; w < n; w++) {
                MqttClient c = new MqttClient(uri, "bench-" + UUID.randomUUID(), new MemoryPersistence());
                MqttConnectOptions o = new MqttConnectOptions();
                o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
                // Paho frees an in-flight slot slightly after a synchronous publish returns; leave room for that.
                o.setMaxInflight(1000);
                if (user.apply(w) != null) {
                    o.setUserName(user.apply(w));
                    o.setPassword(PASSWORD.toCharArray());
                }
                c.connect(o);
                clients.add(c);
            }
            System.out.println("  MQTT " + uri + " ...");
            return measure(n, seconds, lastAcked, cpu, (w, payload) -> {
                clients.get(w).publish("telemetry", payload, 1, false);
                return true;
            });
        } finally {
            for (MqttClient c : clients) {
                c.disconnect();
                c.close();
            }
        }
    }

    /** Vert.x's HTTP/1.1 client with keep-alive, a connection per device, each with its own Basic credentials. */
    private static Result http(String url, int n, int seconds, IntFunction<String> authorization,
            long[] lastAcked, CpuPerOperation cpu)
            throws InterruptedException {
        URI uri = URI.create(url);
        Vertx vertx = Vertx.vertx();
        HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(n));
        System.out.println("  HTTP " + url + " ...");
        try {
            return measure(n, seconds, lastAcked, cpu, (w, payload) -> http.request(HttpMethod.POST, uri.getPort(),
                    uri.getHost(), uri.getPath())
                    .compose(request -> request.putHeader("Authorization", authorization.apply(w))
                            .putHeader("Content-Type", "application/json").send(Buffer.buffer(payload)))
                    .compose(response -> response.body().map(body -> response.statusCode()))
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS) == 202);
        } finally {
            vertx.close();
        }
    }

    /**
     * Eclipse Californium, each device on a UDP socket of its own; with an {@code identity} (not null)
     * over DTLS with the pre-shared key.
     */
    private static Result coap(IntFunction<String> uri, IntFunction<String> identity, int n, int seconds,
            long[] lastAcked, CpuPerOperation cpu) throws InterruptedException {
        List<CoapClient> clients = new ArrayList<>();
        List<Endpoint> endpoints = new ArrayList<>();
        try {
            for (int w = 0; w < n; w++) {
                Endpoint endpoint;
                if (identity.apply(w) == null) {
                    endpoint = new CoapEndpoint.Builder().setConfiguration(coapConfig()).build();
                } else {
                    Configuration cf = coapConfig().set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.CLIENT_ONLY);
                    endpoint = new CoapEndpoint.Builder().setConfiguration(cf).setConnector(new DTLSConnector(
                            DtlsConnectorConfig.builder(cf).setAdvancedPskStore(new AdvancedSinglePskStore(
                                    identity.apply(w), PSK.getBytes(StandardCharsets.UTF_8))).build())).build();
                }
                endpoints.add(endpoint);
                CoapClient c = new CoapClient(uri.apply(w));
                c.setEndpoint(endpoint);
                c.setTimeout(30_000L);
                clients.add(c);
            }
            System.out.println("  CoAP " + uri.apply(0) + " ...");
            return measure(n, seconds, lastAcked, cpu, (w, payload) -> {
                CoapResponse r = clients.get(w).post(payload, MediaTypeRegistry.APPLICATION_JSON);
                return r != null && r.getCode() == ResponseCode.CHANGED;
            });
        } finally {
            clients.forEach(CoapClient::shutdown);
            endpoints.forEach(Endpoint::destroy);
        }
    }

    private static Configuration coapConfig() {
        return Configuration.createStandardWithoutFile();
    }

    /** Answers 2.04 to any POST below /telemetry, on a plain and a DTLS endpoint (the devices' keys known). */
    private static CoapServer bareCoapServer(int n) {
        Configuration cf = coapConfig().set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.SERVER_ONLY)
                .set(DtlsConfig.DTLS_CONNECTION_ID_LENGTH, 6);
        AdvancedMultiPskStore keys = new AdvancedMultiPskStore();
        for (int w = 0; w < n; w++) {
            keys.setKey("coaps-" + w + "@" + TENANT, PSK.getBytes(StandardCharsets.UTF_8));
        }
        CoapServer server = new CoapServer(cf);
        server.addEndpoint(new CoapEndpoint.Builder().setConfiguration(cf)
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", Ports.freeUdp())).build());
        server.addEndpoint(new CoapEndpoint.Builder().setConfiguration(cf).setConnector(new DTLSConnector(
                DtlsConnectorConfig.builder(cf).setAddress(new InetSocketAddress("127.0.0.1", Ports.freeUdp()))
                        .setAdvancedPskStore(keys).build())).build());
        server.add(new CoapResource("telemetry") {
            @Override
            public Resource getChild(String name) {
                return this;
            }

            @Override
            public void handlePOST(CoapExchange exchange) {
                exchange.respond(ResponseCode.CHANGED);
            }
        });
        server.start();
        return server;
    }

    /** Closed loop on one producer with connectivity's settings ({@code acks=all}, 1 ms linger), events of its size. */
    private static Result kafka(LocalSystem system, int n, int seconds) throws Exception {
        system.kafka().createTopics(List.of("bench.raw"), 3);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, system.kafka().bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
                new ByteArraySerializer())) {
            System.out.println("  Kafka " + system.kafka().bootstrapServers() + " ...");
            return measure(n, seconds, null, null, (w, payload) -> {
                ThingId thing = ThingId.of(TENANT, "kafka-" + w);
                TelemetryReceived event = TelemetryReceived.of(UUID.randomUUID().toString(), thing, "telemetry",
                        Map.of("telemetry", KafkaProbe.JSON.readValue(payload, Map.class)), null, Instant.now(), "bench");
                producer.send(KafkaProbe.report("bench.raw", event, "/bench")).get(30, TimeUnit.SECONDS);
                return true;
            });
        }
    }

    /** Waits (up to 2 minutes) until each device's twin holds its last acknowledged value; how many do. */
    private static int converged(LocalSystem system, Map<String, long[]> lastAcked, int n) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.MINUTES.toNanos(2);
        try (MongoClient mongo = MongoClients.create(system.mongo().connectionString())) {
            MongoCollection<Document> twins = mongo.getDatabase("doppel-twins").getCollection("twins");
            while (true) {
                int ok = 0;
                for (var e : lastAcked.entrySet()) {
                    for (int w = 0; w < n; w++) {
                        Document twin = twins.find(Filters.eq("_id", TENANT + ":" + e.getKey() + "-" + w)).first();
                        Object seq = twin == null ? null
                                : twin.getEmbedded(List.of("features", "telemetry", "properties", "seq"), Object.class);
                        if (seq instanceof Number s && s.longValue() >= e.getValue()[w]) {
                            ok++;
                        }
                    }
                }
                if (ok == n * lastAcked.size() || System.nanoTime() > deadline) {
                    System.out.printf(Locale.ROOT, "[doppel] %d of %d twins hold their last acknowledged value, "
                            + "%.1f s after the last run%n", ok, n * lastAcked.size(), (System.nanoTime() - t0) / 1e9);
                    return ok;
                }
                Thread.sleep(500);
            }
        }
    }

    private ProtocolsBenchmark() {
    }
}

package dev.doppel.benchmarks;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.doppel.benchmarks.ClosedLoop.Result;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.ServiceProcess;
import dev.doppel.devstack.testing.KafkaProbe;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.bson.Document;

/**
 * Twin reads, feature property writes and search at concurrency 32 with N twins stored (default 100,000), each measured
 * against the same operation done directly on the MongoDB stand-in in the same run (the floor any
 * service on this store can reach). Reads and property writes over REST come from {@code wrk}
 * ({@link Wrk}), the rest from a Java client.
 *
 * <pre>./doppel bench twin [--twins 100000] [--seconds 10] [--warmup 10]</pre>
 */
public final class TwinReadBenchmark {

    private static final int CONCURRENCY = 32;

    interface Op {
        boolean run(ThreadLocalRandom random) throws Exception;
    }

    /** 32 threads, each with its own random numbers. */
    private static Result measure(int seconds, Op op) throws InterruptedException {
        return ClosedLoop.measure(CONCURRENCY, seconds, (worker, random) -> op.run(random));
    }


    public static void main(String[] args) throws Exception {
        int twins = 100_000;
        int seconds = 10;
        int warmup = 10;
        Map<String, String> serviceConfig = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--twins" -> twins = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Wrk.requireInstalled();
        System.out.printf(Locale.ROOT, "Twin read benchmark: %d twins, concurrency %d, %d s per measure, %d cores%n",
                twins, CONCURRENCY, seconds, Runtime.getRuntime().availableProcessors());
        try (LocalSystem system = new LocalSystem(Files.createTempDirectory("doppel-bench-twin-"),
                LocalSystem.Layout.freePorts())) {
            system.startInfrastructure(null).startServices(List.of("twin-service"), serviceConfig);
            ServiceProcess twin = system.service("twin-service");
            // Fetched again each minute: a run with long warm-ups outlives one access token.
            Supplier<String> token = new Supplier<>() {
                private String current;
                private long fetched;

                @Override
                public synchronized String get() {
                    if (current == null || System.nanoTime() - fetched > 60_000_000_000L) {
                        current = system.tokens().password("admin", "admin");
                        fetched = System.nanoTime();
                    }
                    return current;
                }
            };
            load(system.kafka().bootstrapServers(), twins);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            String countUrl = twin.baseUrl() + "/api/2/search/things/count";
            long t0 = System.nanoTime();
            while (Long.parseLong(get(http, countUrl, token.get()).body().trim()) < twins) {
                Thread.sleep(1000);
            }
            System.out.printf(Locale.ROOT, "[load] %d twins written through Kafka in %.1f s%n", twins,
                    (System.nanoTime() - t0) / 1e9);

            int n = twins;
            try (MongoClient mongo = MongoClients.create(system.mongo().connectionString())) {
                MongoCollection<Document> coll = mongo.getDatabase("doppel-twins").getCollection("twins");
                // Warm-up, not counted: the service has just started, and its first seconds under load
                // go to the JIT; measured cold, reads varied by almost 2x between runs.
                String setpoint = "/features/telemetry/properties/setpoint";
                Wrk.run(twin.baseUrl(), "GET", "/api/2/things/bench:dev-", n, "", token.get(), null, CONCURRENCY, warmup);
                Wrk.run(twin.baseUrl(), "PUT", "/api/2/things/bench:dev-", n, setpoint, token.get(), "RANDOM", CONCURRENCY, warmup);
                measure(warmup, r -> coll.find(Filters.eq("_id", "bench:dev-" + r.nextInt(n))).first() != null);
                Result rawRead = measure(seconds, r -> coll.find(Filters.eq("_id", "bench:dev-" + r.nextInt(n))).first() != null);
                phase("REST reads");
                CpuPerOperation readCpu = new CpuPerOperation(system);
                readCpu.opened();
                Wrk.Result apiRead = Wrk.run(twin.baseUrl(), "GET", "/api/2/things/bench:dev-", n, "", token.get(), null,
                        CONCURRENCY, seconds);
                readCpu.closed(Math.round(apiRead.perSecond() * seconds));
                // Feature property writes: a single-field update directly, and Ditto's PUT of one property
                // (read, conditional replace, change published with acks=all, history appended).
                Result rawWrite = measure(seconds, r -> coll.updateOne(Filters.eq("_id", "bench:dev-" + r.nextInt(n)),
                        new Document("$set", new Document("features.telemetry.properties.setpoint", r.nextInt(1000))))
                        .getMatchedCount() == 1);
                phase("REST property writes");
                CpuPerOperation writeCpu = new CpuPerOperation(system);
                writeCpu.opened();
                Wrk.Result apiWrite = Wrk.run(twin.baseUrl(), "PUT", "/api/2/things/bench:dev-", n, setpoint, token.get(),
                        "RANDOM", CONCURRENCY, seconds);
                writeCpu.closed(Math.round(apiWrite.perSecond() * seconds));
                String filter = "eq(features/telemetry/properties/temperature,%d)";
                Result rawSearch = measure(seconds, r -> coll.find(Filters.and(Filters.eq("tenant", "bench"),
                        Filters.eq("features.telemetry.properties.temperature", (long) r.nextInt(100))))
                        .sort(new Document("_id", 1)).limit(50).into(new java.util.ArrayList<>()).size() > 0);
                Result apiSearch = measure(seconds, r -> get(http, twin.baseUrl() + "/api/2/search/things?filter="
                        + URLEncoder.encode(String.format(Locale.ROOT, filter, r.nextInt(100)), StandardCharsets.UTF_8)
                        + "&option=size(50)", token.get()).statusCode() == 200);
                // The first page of all twins, 50 per page: directly, as REST search, and as GraphQL's twins(first: 50).
                Result rawPage = measure(seconds, r -> coll.find(Filters.eq("tenant", "bench"))
                        .sort(new Document("_id", 1)).limit(50).into(new java.util.ArrayList<>()).size() == 50);
                Result restPage = measure(seconds, r -> get(http, twin.baseUrl() + "/api/2/search/things?option=size(50)",
                        token.get()).statusCode() == 200);
                String query = "{\"query\":\"{ twins(first: 50) { edges { node { thingId attributes "
                        + "features { id properties } } } pageInfo { endCursor } } }\"}";
                java.util.concurrent.atomic.AtomicBoolean told = new java.util.concurrent.atomic.AtomicBoolean();
                Result graphqlPage = measure(seconds, r -> {
                    HttpResponse<String> resp = post(http, twin.baseUrl() + "/graphql", token.get(), query);
                    boolean ok = resp.statusCode() == 200 && !resp.body().contains("\"errors\"");
                    if (!ok && !told.getAndSet(true)) {
                        System.out.println("[graphql] first failure: " + resp.statusCode() + " "
                                + resp.body().substring(0, Math.min(400, resp.body().length())));
                    }
                    return ok;
                });
                System.out.println();
                System.out.println("| measure | MongoDB stand-in directly (reference) | doppel REST | ratio |");
                System.out.println("|---|---|---|---|");
                ClosedLoop.row("read by id /s", rawRead.perSecond(), apiRead.perSecond());
                ClosedLoop.row("read by id p50 ms", rawRead.ms(50), apiRead.p50ms());
                ClosedLoop.row("read by id p99 ms", rawRead.ms(99), apiRead.p99ms());
                ClosedLoop.row("property write /s", rawWrite.perSecond(), apiWrite.perSecond());
                ClosedLoop.row("property write p50 ms", rawWrite.ms(50), apiWrite.p50ms());
                ClosedLoop.row("property write p99 ms", rawWrite.ms(99), apiWrite.p99ms());
                ClosedLoop.row("indexed search (50 per page) /s", rawSearch.perSecond(), apiSearch.perSecond());
                ClosedLoop.row("indexed search p99 ms", rawSearch.ms(99), apiSearch.ms(99));
                ClosedLoop.row("first page of 50 /s, REST search", rawPage.perSecond(), restPage.perSecond());
                ClosedLoop.row("first page of 50 /s, GraphQL twins(first: 50)", rawPage.perSecond(), graphqlPage.perSecond());
                ClosedLoop.row("first page of 50 p99 ms, GraphQL", rawPage.ms(99), graphqlPage.ms(99));
                System.out.printf(Locale.ROOT, "| errors | %d | %d | |%n",
                        rawRead.errors() + rawWrite.errors() + rawSearch.errors() + rawPage.errors(),
                        apiRead.errors() + apiWrite.errors() + apiSearch.errors() + restPage.errors()
                                + graphqlPage.errors());
                readCpu.print("REST read");
                writeCpu.print("REST property write");
            }
        }
        System.exit(0);
    }

    /** Prints when a measured phase starts, to find it in a profile. */
    private static void phase(String name) {
        System.out.println("[phase] " + name + " from " + Instant.now());
    }

    private static HttpResponse<String> get(HttpClient http, String url, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(HttpClient http, String url, String token, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> put(HttpClient http, String url, String token, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Writes one report per twin to dt.device-telemetry, as connectivity would. */
    private static void load(String bootstrap, int twins) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p)) {
            Instant now = Instant.now();
            for (int i = 0; i < twins; i++) {
                String id = "bench:dev-" + i;
                TelemetryReceived r = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(id), "telemetry",
                        Map.of("telemetry", Map.of("temperature", i % 100, "humidity", 40 + i % 20)), null, now, "bench");
                producer.send(KafkaProbe.report(Topics.DEVICE_TELEMETRY, r, "/bench"));
            }
            producer.flush();
        }
    }

    private TwinReadBenchmark() {
    }
}

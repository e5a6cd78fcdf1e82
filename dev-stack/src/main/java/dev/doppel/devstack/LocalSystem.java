package dev.doppel.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The whole system on one machine, each part a real process: Kafka, the MongoDB stand-in and any of
 * the three services. The local run, the end-to-end tests and the benchmarks all start it this way.
 * Closing stops the parts in reverse order: services first, then the stores.
 */
public final class LocalSystem implements AutoCloseable {

    public static final List<String> SERVICES = List.of("twin-service", "command-service", "connectivity-service");

    /**
     * Where each part listens; {@code coap} and {@code coaps} are UDP ports (CoAP, and CoAP over DTLS),
     * {@code management} each service's health and metrics.
     */
    public record Layout(int kafka, int kafkaController, int mongo, int keycloak, Map<String, Integer> http,
            Map<String, Integer> management, int mqtt, int coap, int coaps) {

        public static Layout freePorts() {
            Map<String, Integer> http = new HashMap<>();
            Map<String, Integer> management = new HashMap<>();
            SERVICES.forEach(s -> http.put(s, Ports.free()));
            SERVICES.forEach(s -> management.put(s, Ports.free()));
            int coap = Ports.freeUdp();
            int coaps;
            do {
                coaps = Ports.freeUdp();
            } while (coaps == coap);
            return new Layout(Ports.free(), Ports.free(), Ports.free(), Ports.free(), http, management, Ports.free(),
                    coap, coaps);
        }
    }

    private final Path dir;
    private final Layout layout;
    private final List<AutoCloseable> started = new ArrayList<>();
    private final Map<String, ServiceProcess> services = new LinkedHashMap<>();
    private final List<ServiceProcess> replicas = new ArrayList<>();
    private KafkaBroker kafka;
    private MongoStandIn mongo;
    private KeycloakServer keycloak;
    private ZipkinServer zipkin;
    private int zipkinPort = -1;
    private final Map<String, Map<String, String>> configs = new java.util.concurrent.ConcurrentHashMap<>();
    private int restarts;

    public LocalSystem(Path dir, Layout layout) {
        this.dir = dir;
        this.layout = layout;
    }

    /** Also starts a Zipkin server on this port with the infrastructure, and sends the services' traces to it. */
    public LocalSystem withTracing(int port) {
        this.zipkinPort = port;
        return this;
    }

    /**
     * Starts Kafka, the MongoDB stand-in and Keycloak side by side; {@code h2File} null keeps MongoDB
     * data in memory.
     */
    public LocalSystem startInfrastructure(Path h2File) throws IOException {
        Path logs = dir.resolve("logs");
        var m = CompletableFuture.supplyAsync(() -> {
            try {
                return MongoStandIn.start(layout.mongo(), h2File, logs.resolve("mongodb.log"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        var k = CompletableFuture.supplyAsync(() -> {
            try {
                return KeycloakServer.start(layout.keycloak(), logs.resolve("keycloak.log"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        var z = CompletableFuture.supplyAsync(() -> {
            try {
                return zipkinPort < 0 ? null : ZipkinServer.start(zipkinPort, logs.resolve("zipkin.log"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            kafka = track(KafkaBroker.start(dir.resolve("kafka"), layout.kafka(), layout.kafkaController(),
                    logs.resolve("kafka.log")));
        } finally {
            mongo = track(m.join());
            keycloak = track(k.join());
            zipkin = z.join();
            if (zipkin != null) {
                track(zipkin);
            }
        }
        return this;
    }

    /** Starts the named services in parallel and waits until each is ready. */
    public LocalSystem startServices(List<String> names, Map<String, String> extraConfig) {
        Map<String, CompletableFuture<ServiceProcess>> starting = new LinkedHashMap<>();
        for (String name : names) {
            Map<String, String> config = new HashMap<>(extraConfig);
            config.put("kafka.bootstrap.servers", kafka.bootstrapServers());
            config.put("quarkus.mongodb.connection-string", mongo.connectionString());
            config.put("quarkus.oidc.auth-server-url", keycloak.issuer());
            // Processes started here serve this machine only, whatever the profile's default host.
            config.put("quarkus.http.host", "127.0.0.1");
            config.put("doppel.mqtt.host", "127.0.0.1");
            config.put("doppel.mqtt.port", Integer.toString(layout.mqtt()));
            config.put("doppel.coap.host", "127.0.0.1");
            config.put("doppel.coap.port", Integer.toString(layout.coap()));
            config.put("doppel.coap.dtls-port", Integer.toString(layout.coaps()));
            // On loopback only, so plain CoAP (no DTLS) may name its device: coap-client-notls works locally.
            config.put("doppel.coap.allow-unauthenticated", "true");
            if (zipkin != null) {
                config.put("doppel.tracing.zipkin-endpoint", zipkin.spansEndpoint());
            }
            // Devices of the local run (Modbus simulators, a fleet's broker) run on this machine; the
            // platform's own ports stay out of reach of tenants' plans and connections.
            config.put("doppel.egress.allow-loopback", "true");
            config.put("doppel.egress.platform-endpoints", platformEndpoints());
            // The simulated fleet and the benchmarks' devices all connect from 127.0.0.1: one source
            // that stands for a whole fleet, so it is exempt from the per-source limits (other loopback
            // addresses are not).
            config.put("doppel.limits.per-source.trusted", "127.0.0.1");
            if (name.equals("connectivity-service")) {
                config.put("doppel.secrets.key", secretsKey());
            }
            console(name, config);
            configs.put(name, config);
            starting.put(name, CompletableFuture.supplyAsync(() -> launch(name, name + ".log")));
        }
        starting.forEach((name, f) -> services.put(name, f.join()));
        return this;
    }

    /**
     * The console is served by twin-service and calls the other two services from its page: it is
     * told where they are, and they let its origin in (CORS). Behind one ingress host none of this
     * is needed.
     */
    private void console(String name, Map<String, String> config) {
        String page = "http://127.0.0.1:" + layout.http().get("twin-service");
        String local = "http://localhost:" + layout.http().get("twin-service");
        if (name.equals("twin-service")) {
            config.put("doppel.console.commands-url", "http://127.0.0.1:" + layout.http().get("command-service"));
            config.put("doppel.console.devices-url", "http://127.0.0.1:" + layout.http().get("connectivity-service"));
        } else {
            config.put("quarkus.http.cors.origins", page + "," + local);
        }
    }

    /**
     * The key connectivity-service seals stored secrets with (PSKs, broker passwords): made on the
     * first run and kept beside the data it seals, readable by this user only, so a restart of the
     * local run still opens them.
     */
    private String secretsKey() {
        Path file = dir.resolve("secrets.key");
        try {
            if (!Files.exists(file)) {
                byte[] key = new byte[32];
                new java.security.SecureRandom().nextBytes(key);
                Files.createDirectories(dir);
                Files.writeString(file, java.util.Base64.getEncoder().encodeToString(key));
                try {
                    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: the file keeps the directory's permissions
                }
            }
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the secrets key in " + file, e);
        }
    }

    /** Every TCP port of the local run's own parts, as {@code 127.0.0.1:port,...}. */
    private String platformEndpoints() {
        List<Integer> ports = new ArrayList<>(List.of(layout.kafka(), layout.kafkaController(), layout.mongo(),
                layout.keycloak(), layout.mqtt()));
        ports.addAll(layout.http().values());
        ports.addAll(layout.management().values());
        if (zipkinPort >= 0) {
            ports.add(zipkinPort);
        }
        return String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    }

    /**
     * Stops a service, with SIGKILL if {@code kill} (no shutdown hooks: what a crash leaves behind), or
     * SIGTERM otherwise, then starts it again on the same port and configuration and waits until it is
     * ready. For tests that prove a restart at any moment loses nothing.
     */
    public synchronized ServiceProcess restartService(String name, boolean kill) throws InterruptedException {
        ServiceProcess old = services.get(name);
        if (kill) {
            old.process().kill();
        } else {
            old.close();
        }
        started.remove(old);
        ServiceProcess fresh = launch(name, name + "-" + (++restarts) + ".log");
        services.put(name, fresh);
        return fresh;
    }

    /**
     * Kills the Kafka broker with SIGKILL (what a crash or an evicted pod leaves behind) and starts it
     * again on the same ports and data directory; returns when it answers again. The services' clients
     * reconnect by themselves.
     */
    public synchronized KafkaBroker restartKafka() throws IOException, InterruptedException {
        killKafka();
        return startKafka();
    }

    /** Kills the Kafka broker with SIGKILL and leaves it down until {@link #startKafka}. */
    public synchronized void killKafka() throws InterruptedException {
        kafka.process().kill();
        started.remove(kafka);
    }

    /** Starts the broker again on the same ports and data directory; returns when it answers. */
    public synchronized KafkaBroker startKafka() throws IOException {
        kafka = track(KafkaBroker.start(dir.resolve("kafka"), layout.kafka(), layout.kafkaController(),
                dir.resolve("logs").resolve("kafka-" + (++restarts) + ".log")));
        return kafka;
    }

    /**
     * Starts one more instance of a running service, on a free port and with the same configuration:
     * a second member of its Kafka consumer groups, as a scaled-out deployment has.
     */
    public synchronized ServiceProcess startReplica(String name) {
        return startReplica(name, Map.of());
    }

    /**
     * {@link #startReplica(String)} with settings of its own, such as another MQTT port. The replica's
     * CoAP ports are free ones the OS picks, unless {@code overrides} name them: two processes cannot
     * share a UDP port.
     */
    public synchronized ServiceProcess startReplica(String name, Map<String, String> overrides) {
        Map<String, String> config = new HashMap<>(configs.get(name));
        config.put("doppel.coap.port", "0");
        config.put("doppel.coap.dtls-port", "0");
        config.putAll(overrides);
        ServiceProcess replica = launch(name, Ports.free(), Ports.free(), config,
                name + "-replica-" + (++restarts) + ".log");
        replicas.add(replica);
        return replica;
    }

    private ServiceProcess launch(String name, String logName) {
        return launch(name, layout.http().get(name), layout.management().get(name), configs.get(name), logName);
    }

    private ServiceProcess launch(String name, int port, int managementPort, Map<String, String> config,
            String logName) {
        try {
            return track(ServiceProcess.start(name, port, managementPort, config, dir.resolve("logs").resolve(logName),
                    Duration.ofSeconds(120)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public KafkaBroker kafka() {
        return kafka;
    }

    public MongoStandIn mongo() {
        return mongo;
    }

    public KeycloakServer keycloak() {
        return keycloak;
    }

    /** The trace collector, or null when started without {@link #withTracing(int)}. */
    public ZipkinServer zipkin() {
        return zipkin;
    }

    /** Real tokens of the realm's users. */
    public Tokens tokens() {
        return new Tokens(keycloak.issuer());
    }

    public ServiceProcess service(String name) {
        return services.get(name);
    }

    public int mqttPort() {
        return layout.mqtt();
    }

    /** Connectivity's plain CoAP port (UDP). */
    public int coapPort() {
        return layout.coap();
    }

    /** Connectivity's CoAP-over-DTLS port (UDP). */
    public int coapsPort() {
        return layout.coaps();
    }

    /** Every process started so far (replicas too), for watching. */
    public List<ManagedProcess> processes() {
        List<ManagedProcess> all = new ArrayList<>();
        if (kafka != null) {
            all.add(kafka.process());
        }
        if (mongo != null) {
            all.add(mongo.process());
        }
        if (keycloak != null) {
            all.add(keycloak.process());
        }
        if (zipkin != null) {
            all.add(zipkin.process());
        }
        services.values().forEach(s -> all.add(s.process()));
        replicas.forEach(s -> all.add(s.process()));
        return all;
    }

    private synchronized <T extends AutoCloseable> T track(T resource) {
        started.add(resource);
        return resource;
    }

    @Override
    public synchronized void close() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                System.err.println("while stopping: " + e.getMessage());
            }
        }
        started.clear();
    }
}

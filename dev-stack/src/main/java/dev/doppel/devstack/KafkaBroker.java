package dev.doppel.devstack;

import dev.doppel.contracts.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A real Apache Kafka broker in KRaft mode (broker and controller in one JVM), started from the jars
 * that {@code dev-stack/kafka-runtime} copies from Maven Central. Data stays under {@code dataDir},
 * so a restarted broker keeps its topics and offsets.
 */
public final class KafkaBroker implements AutoCloseable {

    public static final int DEFAULT_PARTITIONS = 3;

    private final ManagedProcess process;
    private final int port;

    private KafkaBroker(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    public static KafkaBroker start(Path dataDir, int port, int controllerPort, Path log) throws IOException {
        Path home = DoppelHome.locate();
        Path lib = DoppelHome.built(home.resolve("dev-stack/kafka-runtime/target/lib"), "the Kafka broker runtime");
        Files.createDirectories(dataDir);
        Files.createDirectories(log.toAbsolutePath().getParent());
        Path logs = dataDir.resolve("kraft-logs");
        Path config = dataDir.resolve("server.properties");
        Files.writeString(config, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "log.dirs=" + logs.toAbsolutePath(),
                "num.partitions=" + DEFAULT_PARTITIONS,
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true",
                "log.retention.hours=168",
                "") );
        String classpath = lib.toAbsolutePath() + "/*";
        String java = ManagedProcess.currentJava();
        if (!Files.exists(logs.resolve("meta.properties"))) {
            Process format = new ProcessBuilder(java, "-cp", classpath, "kafka.tools.StorageTool", "format",
                    "-t", org.apache.kafka.common.Uuid.randomUuid().toString(), "-c", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            try {
                if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
                    throw new IllegalStateException("formatting Kafka storage failed, see " + log);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        ManagedProcess p = ManagedProcess.startJava("kafka", List.of("-Xms128m", "-Xmx512m",
                "-XX:+UseG1GC", "-Dlog4j2.configurationFile=none", "-cp", classpath, "kafka.Kafka",
                config.toString()), log, dataDir);
        KafkaBroker broker = new KafkaBroker(p, port);
        try {
            p.awaitReady(broker::answers, Duration.ofSeconds(90));
            broker.createTopics(Topics.ALL, DEFAULT_PARTITIONS);
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
        return broker;
    }

    /** Starts a throwaway broker on free ports, for tests. */
    public static KafkaBroker startTemporary(Path dir) throws IOException {
        Files.createDirectories(dir);
        return start(dir, Ports.free(), Ports.free(), dir.resolve("kafka.log"));
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public ManagedProcess process() {
        return process;
    }

    public Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
        return Admin.create(p);
    }

    private boolean answers() {
        if (!Ports.isOpen("127.0.0.1", port)) {
            return false;
        }
        try (Admin admin = admin()) {
            return !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    public void createTopics(List<String> topics, int partitions) {
        try (Admin admin = admin()) {
            for (String topic : topics) {
                // The registry's topic keeps the latest word on every device, as in k8s/base/kafka-topics.yaml:
                // command-service rebuilds its view of the registered devices from it.
                // Connectivity's word to its instances on full twins and registry changes counts for minutes.
                Map<String, String> configs = switch (topic) {
                    case Topics.DEVICES -> Map.of("min.insync.replicas", "1", "cleanup.policy", "compact");
                    case Topics.TWIN_ROOM, Topics.REGISTRY_CHANGES ->
                            Map.of("min.insync.replicas", "1", "retention.ms", "3600000");
                    default -> Map.of("min.insync.replicas", "1");
                };
                try {
                    admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(configs)))
                            .all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + topic, e.getCause());
                    }
                    if (Topics.DEVICES.equals(topic)) {
                        compact(admin, topic); // a data directory from before: keep the registrations it still has
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new UncheckedIOException(new IOException("creating topics timed out", e));
        }
    }

    private static void compact(Admin admin, String topic) throws InterruptedException,
            java.util.concurrent.TimeoutException {
        try {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                    List.of(new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot make topic " + topic + " compacted", e.getCause());
        }
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(30));
    }
}

package dev.doppel.devstack.testing;

import dev.doppel.devstack.KafkaBroker;
import dev.doppel.devstack.MongoStandIn;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Quarkus test resource that starts a real Kafka broker and the MongoDB stand-in, each in its own
 * process on free ports, and points the service under test at them. Nothing is mocked and no
 * container is needed.
 */
public class RealInfrastructure implements QuarkusTestResourceLifecycleManager {

    private static volatile KafkaBroker kafka;
    private static volatile MongoStandIn mongo;

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("doppel-it-");
            CompletableFuture<MongoStandIn> m = CompletableFuture.supplyAsync(() -> {
                try {
                    return MongoStandIn.startTemporary(dir.resolve("mongo"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            kafka = KafkaBroker.startTemporary(dir.resolve("kafka"));
            mongo = m.join();
            return Map.of(
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "quarkus.mongodb.connection-string", mongo.connectionString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        if (kafka != null) {
            kafka.close();
        }
        if (mongo != null) {
            mongo.close();
        }
    }

    public static String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    public static String mongoConnectionString() {
        return mongo.connectionString();
    }
}

package dev.doppel.devstack.testing;

import dev.doppel.devstack.KafkaBroker;
import dev.doppel.devstack.KeycloakServer;
import dev.doppel.devstack.Tokens;
import dev.doppel.devstack.MongoStandIn;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Quarkus test resource that starts a real Kafka broker, the MongoDB stand-in and a real Keycloak
 * with the project's realm, each in its own process on free ports, and points the service under
 * test at them. Nothing is mocked and no container is needed. Given a real MongoDB's URL
 * ({@link #realMongoUrl}), the tests use it instead of the stand-in.
 */
public class RealInfrastructure implements QuarkusTestResourceLifecycleManager {

    private static volatile KafkaBroker kafka;
    private static volatile MongoStandIn mongo;
    private static volatile KeycloakServer keycloak;

    /**
     * A real MongoDB to run the integration tests against instead of the stand-in, by its connection
     * string ({@code DOPPEL_TEST_MONGODB_URL}, or the system property {@code doppel.test.mongodb-url}):
     * docs/development.md, "Against a real MongoDB". Its Doppel databases are dropped before each use.
     */
    public static String realMongoUrl() {
        String url = System.getProperty("doppel.test.mongodb-url", System.getenv("DOPPEL_TEST_MONGODB_URL"));
        return url == null || url.isBlank() ? null : url;
    }

    /** The databases of the three services, which a test run against a real MongoDB starts without. */
    public static final List<String> DATABASES = List.of("doppel-twins", "doppel-commands", "doppel-connectivity");

    private static volatile String connectionString;

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("doppel-it-");
            String real = realMongoUrl();
            CompletableFuture<MongoStandIn> m = CompletableFuture.supplyAsync(() -> {
                if (real != null) {
                    RealMongo.dropDatabases(real, DATABASES);
                    return null;
                }
                try {
                    return MongoStandIn.startTemporary(dir.resolve("mongo"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            CompletableFuture<KeycloakServer> k = CompletableFuture.supplyAsync(() -> {
                try {
                    return KeycloakServer.startTemporary(dir.resolve("keycloak"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            kafka = KafkaBroker.startTemporary(dir.resolve("kafka"));
            mongo = m.join();
            connectionString = real != null ? real : mongo.connectionString();
            keycloak = k.join();
            return Map.of(
                    "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "quarkus.mongodb.connection-string", connectionString,
                    "quarkus.oidc.auth-server-url", keycloak.issuer());
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
        if (keycloak != null) {
            keycloak.close();
        }
    }

    public static KeycloakServer keycloak() {
        return keycloak;
    }

    private static final Map<String, Map.Entry<String, Long>> TOKENS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A real access token of one of the realm's users (password = user name in the demo realm),
     * reused for up to four of its five minutes.
     */
    public static String token(String user) {
        long now = System.nanoTime();
        Map.Entry<String, Long> cached = TOKENS.get(user);
        if (cached != null && now - cached.getValue() < java.util.concurrent.TimeUnit.MINUTES.toNanos(4)) {
            return cached.getKey();
        }
        String token = new Tokens(keycloak.issuer()).password(user, user);
        TOKENS.put(user, Map.entry(token, now));
        return token;
    }

    public static String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    public static String mongoConnectionString() {
        return connectionString;
    }
}

package dev.doppel.devstack;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real Keycloak server (the distribution from Maven Central, unpacked by
 * {@code dev-stack/keycloak-runtime}) in development mode with an in-memory database, importing the
 * project's realm ({@code keycloak/twin-realm.json}) at every start.
 */
public final class KeycloakServer implements AutoCloseable {

    public static final String REALM = "twin";
    public static final String VERSION = "26.7.3";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final ManagedProcess process;
    private final int port;
    private final int managementPort;

    private KeycloakServer(ManagedProcess process, int port, int managementPort) {
        this.process = process;
        this.port = port;
        this.managementPort = managementPort;
    }

    public static KeycloakServer start(int port, Path log) throws IOException {
        Path home = DoppelHome.locate();
        Path dist = DoppelHome.built(home.resolve("dev-stack/keycloak-runtime/target/keycloak-" + VERSION),
                "the Keycloak runtime");
        Path realm = home.resolve("keycloak/twin-realm.json");
        Path imports = dist.resolve("data/import");
        Files.createDirectories(imports);
        Files.copy(realm, imports.resolve("twin-realm.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.createDirectories(log.toAbsolutePath().getParent());
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        // Metrics on a management port of its own (not Keycloak's fixed 9000): they show who calls Keycloak.
        int managementPort = Ports.free();
        cmd.addAll(List.of(dist.resolve("bin/kc.sh").toString(), "start-dev", "--http-port=" + port,
                "--http-host=127.0.0.1", "--import-realm", "--db=dev-mem", "--cache=local",
                "--metrics-enabled=true", "--http-management-port=" + managementPort));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dist.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> env = pb.environment();
        env.put("JAVA_HOME", javaHome());
        env.put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
        env.put("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin");
        env.put("JAVA_OPTS_KC_HEAP", "-Xms64m -Xmx512m");
        env.remove("JAVA_TOOL_OPTIONS");
        KeycloakServer server = new KeycloakServer(ManagedProcess.wrap("keycloak", pb.start(), log), port,
                managementPort);
        try {
            server.process.awaitReady(server::answers, Duration.ofSeconds(240));
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    public static KeycloakServer startTemporary(Path dir) throws IOException {
        return start(Ports.free(), dir.resolve("keycloak.log"));
    }

    /** Keycloak 26 runs on Java 17 or 21; prefer the system's 17 (verified here), else this JVM. */
    private static String javaHome() {
        for (String candidate : List.of("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-21-openjdk-amd64")) {
            if (Files.isExecutable(Path.of(candidate, "bin/java"))) {
                return candidate;
            }
        }
        return System.getProperty("java.home");
    }

    private boolean answers() {
        return HttpProbe.answers(issuer() + "/.well-known/openid-configuration");
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** The issuer of the project's realm, what services use as {@code quarkus.oidc.auth-server-url}. */
    public String issuer() {
        return baseUrl() + "/realms/" + REALM;
    }

    /**
     * How many HTTP requests Keycloak has served on its realms' endpoints (tokens, keys, discovery,
     * authorization), from its own metrics: what a service that calls Keycloak per request would grow.
     */
    public long realmRequests() throws IOException, InterruptedException {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/metrics"))
                .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        long total = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith("http_server_requests_seconds_count{") && line.contains("uri=\"/realms/")) {
                total += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(30));
    }
}

package dev.doppel.devstack;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Zipkin server (the executable jar from Maven Central, copied by
 * {@code dev-stack/zipkin-runtime}) keeping spans in memory: where the local run's services send
 * their traces, and what the system tests query to see a trace cross the services.
 */
public final class ZipkinServer implements AutoCloseable {

    private final ManagedProcess process;
    private final int port;

    private ZipkinServer(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    public static ZipkinServer start(int port, Path log) throws IOException {
        Path home = DoppelHome.locate();
        Path jar = DoppelHome.built(home.resolve("dev-stack/zipkin-runtime/target/zipkin-server.jar"),
                "the Zipkin runtime");
        ManagedProcess p = ManagedProcess.startJava("zipkin", List.of("-Xms32m", "-Xmx256m", "-XX:+UseSerialGC",
                "-jar", jar.toString(), "--server.port=" + port, "--server.address=127.0.0.1",
                "--zipkin.storage.type=mem", "--zipkin.storage.mem.max-spans=30000",
                "--logging.level.root=WARN"), log, home);
        ZipkinServer server = new ZipkinServer(p, port);
        try {
            p.awaitReady(server::answers, Duration.ofSeconds(90));
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private boolean answers() {
        return HttpProbe.answers(baseUrl() + "/health");
    }

    /** The UI and query API (for example {@code /api/v2/traces?serviceName=twin-service}). */
    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** Where services post their spans ({@code doppel.tracing.zipkin-endpoint}). */
    public String spansEndpoint() {
        return baseUrl() + "/api/v2/spans";
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(10));
    }
}

package dev.doppel.devstack;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One of the three Quarkus services, run from its built fast-jar as a separate JVM. */
public final class ServiceProcess implements AutoCloseable {

    private final ManagedProcess process;
    private final String name;
    private final int httpPort;
    private final int managementPort;

    private ServiceProcess(String name, ManagedProcess process, int httpPort, int managementPort) {
        this.name = name;
        this.process = process;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
    }

    /**
     * Starts {@code <name>/target/quarkus-app/quarkus-run.jar} with the given configuration
     * (as system properties), its API on {@code httpPort} and its health and metrics on
     * {@code managementPort}, and waits until {@code /q/health/ready} answers 200 there.
     */
    public static ServiceProcess start(String name, int httpPort, int managementPort, Map<String, String> config,
            Path log, Duration timeout) throws IOException {
        Path home = DoppelHome.locate();
        Path jar = DoppelHome.built(home.resolve(name).resolve("target/quarkus-app/quarkus-run.jar"), name);
        // Sized so that the three services stay within 1 GiB resident under load (bench telemetry):
        // their live heaps are 20 to 65 MB; at -Xmx384m the collector let each grow to the limit.
        // (A smaller code cache was tried: when it filled, the JVM ran full collections of 130 to 200 ms.)
        List<String> args = new ArrayList<>(List.of("-Xms32m", "-Xmx160m", "-XX:+UseSerialGC"));
        if (Runtime.version().feature() >= 25) {
            args.add("-XX:+UseCompactObjectHeaders"); // 8-byte object headers; a product flag from JDK 25 on
        }
        // For profiling a run, e.g. DOPPEL_SERVICE_JVM_OPTS="-XX:StartFlightRecording=filename=/tmp/s-%p.jfr,settings=profile"
        String extra = System.getenv("DOPPEL_SERVICE_JVM_OPTS");
        if (extra != null && !extra.isBlank()) {
            args.addAll(List.of(extra.trim().split("\\s+")));
        }
        args.add("-Dquarkus.http.port=" + httpPort);
        args.add("-Dquarkus.management.port=" + managementPort);
        // Keys go in the environment (as Quarkus names it: doppel.secrets.key is DOPPEL_SECRETS_KEY),
        // where other users of the machine cannot read them; the rest on the command line, to be seen.
        Map<String, String> environment = new java.util.HashMap<>();
        config.forEach((k, v) -> {
            if (k.startsWith("doppel.secrets.")) {
                environment.put(k.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_"), v);
            } else {
                args.add("-D" + k + "=" + v);
            }
        });
        args.add("-jar");
        args.add(jar.toString());
        ManagedProcess p = ManagedProcess.startJava(name, args, environment, log, home);
        ServiceProcess s = new ServiceProcess(name, p, httpPort, managementPort);
        try {
            p.awaitReady(s::ready, timeout);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    public boolean ready() {
        return HttpProbe.answers(managementUrl() + "/q/health/ready");
    }

    public String name() {
        return name;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** Where its health, metrics and OpenAPI are ({@code /q/...}); not its API's port. */
    public String managementUrl() {
        return "http://127.0.0.1:" + managementPort;
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(20));
    }
}

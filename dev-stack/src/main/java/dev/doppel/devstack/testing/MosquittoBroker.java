package dev.doppel.devstack.testing;

import dev.doppel.devstack.ManagedProcess;
import dev.doppel.devstack.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Debian's mosquitto as a fleet's own MQTT broker, for tests of the external broker bridge: anonymous,
 * on a free loopback port, nothing persisted. Its clients ({@code mosquitto_pub}) play the fleet's
 * devices, a third-party MQTT implementation rather than ours.
 */
public final class MosquittoBroker implements AutoCloseable {

    public static final Path BROKER = Path.of("/usr/sbin/mosquitto");
    public static final Path PUB = Path.of("/usr/bin/mosquitto_pub");
    public static final Path SUB = Path.of("/usr/bin/mosquitto_sub");

    private final ManagedProcess process;
    private final int port;

    private MosquittoBroker(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Whether Debian's {@code mosquitto} and {@code mosquitto-clients} are installed. */
    public static boolean installed() {
        return Files.isExecutable(BROKER) && Files.isExecutable(PUB) && Files.isExecutable(SUB);
    }

    /** Starts a broker and waits until it accepts connections. */
    public static MosquittoBroker start() throws IOException {
        return start(Files.createTempDirectory("mosquitto-"), "allow_anonymous true\npersistence false\n");
    }

    /**
     * Starts a broker on a free loopback port with the given configuration lines (all but the listener),
     * its configuration and log in {@code dir}, and waits until it accepts connections.
     */
    public static MosquittoBroker start(Path dir, String configuration) throws IOException {
        return start(dir, configuration, Ports.free());
    }

    /** As {@link #start(Path, String)} on a given port: a broker that comes back where it was. */
    public static MosquittoBroker start(Path dir, String configuration, int port) throws IOException {
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, "listener " + port + " 127.0.0.1\n" + configuration);
        Path log = dir.resolve("mosquitto.log");
        Process p = new ProcessBuilder(BROKER.toString(), "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ManagedProcess broker = ManagedProcess.wrap("mosquitto", p, log);
        try {
            broker.awaitReady(() -> Ports.isOpen("127.0.0.1", port), Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
        return new MosquittoBroker(broker, port);
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    /** The broker's address as a bridge connection names it. */
    public String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    /**
     * Publishes one message at QoS 1 with {@code mosquitto_pub} and waits until it is done. The message
     * goes through a file: a command line argument is limited to 128 KiB.
     */
    public void publish(String topic, String message) throws IOException, InterruptedException {
        Path file = Files.createTempFile("mosquitto-message-", ".json");
        try {
            Files.writeString(file, message);
            Process pub = new ProcessBuilder(PUB.toString(), "-h", "127.0.0.1", "-p", Integer.toString(port),
                    "-t", topic, "-q", "1", "-f", file.toString()).redirectErrorStream(true).start();
            if (!pub.waitFor(10, TimeUnit.SECONDS)) {
                pub.destroyForcibly();
                throw new IllegalStateException("mosquitto_pub on " + topic + " did not finish in 10 s");
            }
            if (pub.exitValue() != 0) {
                throw new IllegalStateException("mosquitto_pub on " + topic + " exited with " + pub.exitValue() + ": "
                        + new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Override
    public void close() {
        process.close();
    }
}

package dev.doppel.benchmarks;

import dev.doppel.devstack.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Debian's mosquitto broker on a free loopback port, the MQTT reference of the benchmarks: a broker
 * that only relays and stores nothing (persistence off, no limit on connections or queued messages).
 */
final class Mosquitto implements AutoCloseable {

    private static final Path BIN = Path.of("/usr/sbin/mosquitto");
    private static final Path PASSWD = Path.of("/usr/bin/mosquitto_passwd");

    private final Process process;
    private final int port;

    private Mosquitto(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Anonymous clients allowed. */
    static Mosquitto start(Path dir) throws IOException, InterruptedException {
        return start(dir, null);
    }

    /**
     * With {@code passwords} (user name → password) only those users may connect; mosquitto hashes
     * them itself ({@code mosquitto_passwd -U}: PBKDF2-SHA512, 101 iterations).
     */
    static Mosquitto start(Path dir, Map<String, String> passwords) throws IOException, InterruptedException {
        if (!Files.isExecutable(BIN)) {
            throw new IllegalStateException("the reference needs Debian's mosquitto: apt-get install mosquitto");
        }
        int port = Ports.free();
        StringBuilder conf = new StringBuilder("listener " + port + " 127.0.0.1\npersistence false\n"
                + "max_inflight_messages 0\nmax_queued_messages 100000\nmax_connections -1\n");
        if (passwords == null) {
            conf.append("allow_anonymous true\n");
        } else {
            Path file = dir.resolve("mosquitto.passwd");
            StringBuilder lines = new StringBuilder();
            passwords.forEach((user, password) -> lines.append(user).append(':').append(password).append('\n'));
            Files.writeString(file, lines);
            Process hashing = new ProcessBuilder(PASSWD.toString(), "-U", file.toString()).inheritIO().start();
            if (hashing.waitFor() != 0) {
                throw new IllegalStateException("mosquitto_passwd -U failed");
            }
            // Started as root, mosquitto reads the password file after dropping to its own user, which
            // cannot enter this private temporary directory: keep it root (it listens on loopback only).
            conf.append("allow_anonymous false\npassword_file ").append(file).append("\nuser root\n");
        }
        Path confFile = dir.resolve("mosquitto.conf");
        Files.writeString(confFile, conf);
        Process p = new ProcessBuilder(List.of(BIN.toString(), "-c", confFile.toString())).redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Ports.isOpen("127.0.0.1", port) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        System.out.println("[reference] mosquitto on " + port);
        return new Mosquitto(p, port);
    }

    int port() {
        return port;
    }

    String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        process.destroy();
    }
}

package dev.doppel.benchmarks;

import dev.doppel.devstack.testing.MosquittoBroker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Debian's mosquitto broker on a free loopback port, the MQTT reference of the benchmarks: a broker
 * that only relays and stores nothing (persistence off, no limit on connections or queued messages).
 */
final class Mosquitto implements AutoCloseable {

    private static final Path PASSWD = Path.of("/usr/bin/mosquitto_passwd");

    private final MosquittoBroker broker;

    private Mosquitto(MosquittoBroker broker) {
        this.broker = broker;
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
        if (!Files.isExecutable(MosquittoBroker.BROKER)) {
            throw new IllegalStateException("the reference needs Debian's mosquitto: apt-get install mosquitto");
        }
        // set_tcp_nodelay: doppel's MQTT server (Vert.x) sends without Nagle's delay too.
        StringBuilder conf = new StringBuilder("persistence false\nset_tcp_nodelay true\n"
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
        MosquittoBroker broker = MosquittoBroker.start(dir, conf.toString());
        System.out.println("[reference] mosquitto on " + broker.port());
        return new Mosquitto(broker);
    }

    int port() {
        return broker.port();
    }

    String uri() {
        return broker.uri();
    }

    long pid() {
        return broker.pid();
    }

    @Override
    public void close() {
        broker.close();
    }
}

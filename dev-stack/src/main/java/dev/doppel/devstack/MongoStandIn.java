package dev.doppel.devstack;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The MongoDB-wire-compatible server (mongo-java-server) in its own JVM. With a file it uses the H2
 * backend, so data survives a restart; without one it keeps data in memory (tests).
 * No real {@code mongod} can be installed on these machines; see docs for what the stand-in cannot do.
 */
public final class MongoStandIn implements AutoCloseable {

    private final ManagedProcess process;
    private final int port;

    private MongoStandIn(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Entry point of the child process: {@code MongoStandIn <port> [h2-file]}. */
    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        MongoServer server = new MongoServer(args.length > 1 ? new H2Backend(args[1]) : new MemoryBackend());
        // Orderly close on SIGTERM: the H2 store is committed and closed, so acknowledged writes are kept.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "mongo-shutdown"));
        server.bind("127.0.0.1", port);
        System.out.println("MongoDB stand-in listening on 127.0.0.1:" + port
                + (args.length > 1 ? " (H2 file " + args[1] + ")" : " (memory)"));
    }

    public static MongoStandIn start(int port, Path h2File, Path log) throws IOException {
        Path home = DoppelHome.locate();
        Path classes = DoppelHome.built(home.resolve("dev-stack/target/classes"), "dev-stack");
        Path lib = DoppelHome.built(home.resolve("dev-stack/target/lib"), "dev-stack's runtime classpath");
        // The in-memory backend holds every document on the heap, history included. With 768 MB, a
        // benchmark's history filled it and G1 paused the store for 400 ms at a time (JFR), which was
        // the whole p99 of twin writes; a real mongod has no such pauses. Heap is only taken as used.
        List<String> args = new ArrayList<>(List.of("-Xms64m", "-Xmx2g", "-cp",
                classes.toAbsolutePath() + java.io.File.pathSeparator + lib.toAbsolutePath() + "/*",
                MongoStandIn.class.getName(), Integer.toString(port)));
        if (h2File != null) {
            Files.createDirectories(h2File.toAbsolutePath().getParent());
            args.add(h2File.toAbsolutePath().toString());
        }
        ManagedProcess p = ManagedProcess.startJava("mongodb", args, log, log.getParent());
        MongoStandIn m = new MongoStandIn(p, port);
        try {
            p.awaitReady(() -> Ports.isOpen("127.0.0.1", port), Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** An in-memory server on a free port, for tests. */
    public static MongoStandIn startTemporary(Path dir) throws IOException {
        Files.createDirectories(dir);
        return start(Ports.free(), null, dir.resolve("mongodb.log"));
    }

    public String connectionString() {
        return "mongodb://127.0.0.1:" + port;
    }

    public ManagedProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(20));
    }
}

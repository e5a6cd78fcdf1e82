package dev.doppel.devstack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A child JVM with its output in a log file; stopped gracefully (SIGTERM), forcibly only if it hangs. */
public final class ManagedProcess implements AutoCloseable {

    private static final String SETSID = "/usr/bin/setsid";

    private final String name;
    private final Process process;
    private final Path log;

    private ManagedProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code java} (the same JDK as this JVM) with the given arguments. */
    public static ManagedProcess startJava(String name, List<String> jvmAndProgramArgs, Path log, Path workDir)
            throws IOException {
        return startJava(name, jvmAndProgramArgs, java.util.Map.of(), log, workDir);
    }

    /** The same, with these variables added to its environment. */
    public static ManagedProcess startJava(String name, List<String> jvmAndProgramArgs,
            java.util.Map<String, String> environment, Path log, Path workDir) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of(SETSID))) {
            // Own session: Ctrl-C in the terminal reaches only the launcher, which then stops the
            // children in order (devices, services, stores) instead of all at once.
            cmd.add(SETSID);
        }
        cmd.add(currentJava());
        cmd.addAll(jvmAndProgramArgs);
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        // glibc gives each thread that mallocs an arena of its own, up to 8 per core, which a JVM (whose
        // objects live on its own heap) mostly leaves empty but resident: two are enough.
        pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
        pb.environment().putAll(environment);
        return new ManagedProcess(name, pb.start(), log);
    }

    /** Takes charge of a process started elsewhere (a server's own start script). */
    public static ManagedProcess wrap(String name, Process process, Path log) {
        return new ManagedProcess(name, process, log);
    }

    public static String currentJava() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public String name() {
        return name;
    }

    public Path log() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Waits until {@code ready} holds; fails early with the log's tail if the process dies. */
    public void awaitReady(BooleanSupplier ready, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with code " + process.exitValue()
                        + " while starting; last lines of " + log + ":\n" + tail(40));
            }
            if (ready.getAsBoolean()) {
                return;
            }
            sleep(200);
        }
        throw new IllegalStateException(name + " was not ready within " + timeout.toSeconds() + " s; last lines of "
                + log + ":\n" + tail(40));
    }

    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | RuntimeException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** SIGTERM, so the process runs its shutdown hooks (commits offsets, closes stores). */
    public void stop(Duration grace) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** SIGKILL: for tests that prove nothing acknowledged is lost when a process dies. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(20));
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}

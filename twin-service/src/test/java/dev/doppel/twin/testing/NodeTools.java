package dev.doppel.twin.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Node.js and npm for the tests that drive real JavaScript clients (Debian's {@code nodejs} and
 * {@code npm}; {@code .ci/run} installs them): a package of {@code src/test/<name>} installed from its
 * lock file into {@code target/<name>}, and commands run there.
 */
public final class NodeTools {

    /** A finished command: its exit code and its output, stderr included. */
    public record Run(int exit, String output) {
    }

    private NodeTools() {
    }

    /** Copies the package's files from src/test/{name} to target/{name} and installs it with {@code npm ci}. */
    public static Path install(String name, List<String> files) throws Exception {
        Path source = Path.of("src/test", name);
        Path dir = Path.of("target", name);
        Files.createDirectories(dir);
        for (String file : files) {
            Files.copy(source.resolve(file), dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Run install = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund");
        assertEquals(0, install.exit(), "npm ci failed: " + install.output());
        return dir;
    }

    public static Run run(Path dir, long timeoutSeconds, String... command) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException(command[0] + " not found: this test needs Node.js and npm "
                    + "(Debian's nodejs and npm)", e);
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}

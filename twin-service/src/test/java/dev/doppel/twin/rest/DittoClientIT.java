package dev.doppel.twin.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Eclipse Ditto's own JavaScript client ({@code @eclipse-ditto/ditto-javascript-client-node} 3.9.1, from
 * the npm registry, unmodified) works against twin-service: things, attributes, features, properties,
 * {@code fields}, search (GET and POST), count, as {@code src/test/ditto-client/check.cjs} drives it.
 * Needs Node.js and npm (Debian's {@code nodejs} and {@code npm}; {@code .ci/run} installs them).
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class DittoClientIT {

    @TestHTTPResource("/")
    URL base;

    private record Run(int exit, String output) {
    }

    private static Run run(Path dir, long timeoutSeconds, String... command) throws Exception {
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

    @Test
    void dittosJavaScriptClientDoesWhatItDoesWithDitto() throws Exception {
        Path source = Path.of("src/test/ditto-client");
        Path dir = Path.of("target/ditto-client");
        Files.createDirectories(dir);
        for (String file : List.of("package.json", "package-lock.json", "check.cjs")) {
            Files.copy(source.resolve(file), dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Run install = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund");
        assertEquals(0, install.exit(), "npm ci failed: " + install.output());

        String domain = base.getHost() + ":" + base.getPort();
        Run check = run(dir, 120, "node", "check.cjs", domain, RealInfrastructure.token("admin"), "dittojs:lamp-1");
        assertEquals(0, check.exit(), check.output());
        assertTrue(check.output().contains("ok postSearch") && check.output().trim().endsWith("done"), check.output());
    }
}

package dev.doppel.twin.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.testing.RealInfrastructure;
import dev.doppel.twin.testing.NodeTools;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
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

    @Test
    void dittosJavaScriptClientDoesWhatItDoesWithDitto() throws Exception {
        Path dir = NodeTools.install("ditto-client", List.of("package.json", "package-lock.json", "check.cjs"));

        String domain = base.getHost() + ":" + base.getPort();
        NodeTools.Run check = NodeTools.run(dir, 120, "node", "check.cjs", domain, RealInfrastructure.token("admin"),
                "dittojs:lamp-1");
        assertEquals(0, check.exit(), check.output());
        assertTrue(check.output().contains("ok postSearch") && check.output().trim().endsWith("done"), check.output());
    }
}

package dev.doppel.twin.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import dev.doppel.twin.testing.NodeTools;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The live APIs from a real browser, as a browser app uses them: a page served from another origin
 * in headless Chromium (Debian's {@code chromium}) subscribes with graphql-ws's browser build (from the
 * npm registry), its token in {@code connection_init}, and opens the SSE stream with
 * {@code EventSource} and a live ticket, through CORS; both receive a change of the twin. Needs
 * Chromium, Node.js and npm ({@code .ci/run} installs them).
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class BrowserLiveIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL base;

    @Test
    void aBrowserPageSubscribesOverGraphqlWsAndStreamsOverEventSource() throws Exception {
        Path dir = NodeTools.install("browser", List.of("package.json", "package-lock.json", "live.html"));

        // The page's own origin, another than the API's: what the browser sends back comes to /report.
        BlockingQueue<Map<String, Object>> reports = new LinkedBlockingQueue<>();
        HttpServer pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        pages.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body;
            if (path.equals("/report")) {
                reports.add(readReport(exchange.getRequestBody().readAllBytes()));
                body = new byte[0];
            } else if (path.equals("/live.html")) {
                body = Files.readAllBytes(dir.resolve("live.html"));
                exchange.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
            } else if (path.equals("/graphql-ws.min.js")) {
                body = Files.readAllBytes(dir.resolve("node_modules/graphql-ws/umd/graphql-ws.min.js"));
                exchange.getResponseHeaders().add("Content-Type", "text/javascript");
            } else {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        pages.start();

        String thing = "demo:browser-live";
        String api = "http://127.0.0.1:" + base.getPort();
        String page = "http://127.0.0.1:" + pages.getAddress().getPort() + "/live.html#api=" + api + "&thing="
                + thing + "&token=" + RealInfrastructure.token("olivia");
        Process chromium = startChromium(page, dir.resolve("profile"));
        List<Map<String, Object>> seen = new ArrayList<>();
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            boolean graphql = false;
            boolean sse = false;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            // Neither protocol says when a subscription is in place: report until both have a change.
            for (int i = 0; !(graphql && sse) && System.nanoTime() < deadline; i++) {
                report(kafka, thing, 20.0 + i);
                Map<String, Object> r = reports.poll(2, TimeUnit.SECONDS);
                while (r != null) {
                    seen.add(r);
                    String what = String.valueOf(r.get("what"));
                    assertTrue(!what.endsWith("-error") && !what.endsWith("-complete"), "the page reported " + r
                            + "; all it reported: " + seen);
                    graphql |= what.equals("graphql") && r.toString().contains(thing);
                    sse |= what.equals("sse") && r.toString().contains(thing);
                    r = reports.poll(100, TimeUnit.MILLISECONDS);
                }
            }
            assertTrue(graphql, "no change reached the graphql-ws subscription in Chromium; the page reported " + seen);
            assertTrue(sse, "no change reached the EventSource in Chromium; the page reported " + seen);
        } finally {
            chromium.descendants().forEach(ProcessHandle::destroyForcibly);
            chromium.destroyForcibly();
            pages.stop(0);
        }
    }

    @Test
    void onlyListedOriginsMayCallFromABrowser() {
        String token = RealInfrastructure.token("olivia");
        // Positive control: an origin the test profile lists is allowed, with the Authorization header.
        given().header("Origin", "http://127.0.0.1:3000").header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization").options("/api/2/live-tickets")
                .then().header("Access-Control-Allow-Origin", "http://127.0.0.1:3000");
        given().auth().oauth2(token).header("Origin", "http://127.0.0.1:3000").get("/api/2/things/demo:nothing-here")
                .then().header("Access-Control-Allow-Origin", "http://127.0.0.1:3000");
        // Another origin is told nothing that lets a browser read the answer.
        given().header("Origin", "https://elsewhere.example").header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization").options("/api/2/live-tickets")
                .then().header("Access-Control-Allow-Origin", nullValue());
        given().auth().oauth2(token).header("Origin", "https://elsewhere.example").get("/api/2/things/demo:nothing-here")
                .then().header("Access-Control-Allow-Origin", nullValue());
    }

    private static void report(KafkaProbe kafka, String thingId, double temperature) {
        TelemetryReceived r = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(thingId), "telemetry",
                Map.of("telemetry", Map.of("temperature", temperature)), null, Instant.now(), "mqtt");
        kafka.sendEvent(Topics.DEVICE_TELEMETRY, thingId, r.type(), "/test", r);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readReport(byte[] body) {
        try {
            return JSON.readValue(body, Map.class);
        } catch (IOException e) {
            return Map.of("what", "unreadable-error", "data", new String(body, StandardCharsets.UTF_8));
        }
    }

    /** Debian's Chromium, headless, on a profile of its own; root needs --no-sandbox. */
    private static Process startChromium(String url, Path profile) throws IOException {
        String binary = Files.isExecutable(Path.of("/usr/bin/chromium")) ? "/usr/bin/chromium" : "chromium";
        try {
            return new ProcessBuilder(binary, "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                    "--user-data-dir=" + profile.toAbsolutePath(), url)
                    .redirectErrorStream(true).redirectOutput(Path.of("target/chromium.log").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("chromium not found: this test needs a real browser, Debian's chromium "
                    + "(apt-get install chromium)", e);
        }
    }
}

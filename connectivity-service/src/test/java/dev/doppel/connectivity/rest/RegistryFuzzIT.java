package dev.doppel.connectivity.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.testing.Hostile;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hostile input against the device registry API (tenants, limits, egress, trust anchors, devices,
 * credentials, Modbus plans, mappings, bridge connections) and the HTTP device adapter (telemetry,
 * events, command responses; with and without valid credentials), from fixed seeds: 10,000 requests
 * each. Never a 5xx or a request left without an answer; a registration nobody addressed stays as it
 * was (a tenant of its own: the fuzzed ones get limits and switches), and its device can still log
 * in and report; the service is ready at the end.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class RegistryFuzzIT {

    private static final int REQUESTS = 10_000;
    private static final int MAX_REQUEST_LINE = 4_096;
    private static final String PASSWORD = "fuzz-secret";
    private static final List<String> DEVICES = List.of("fuzz-1", "fuzz-2");

    @TestHTTPResource("/")
    URL api;

    /** Health: the management interface (its URL ends in /q/), not the API port. */
    @TestHTTPResource(value = "", management = true)
    URL management;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String token = "Bearer " + RealInfrastructure.token("admin");
    private final List<String> serverErrors = new ArrayList<>();
    private final Map<String, Integer> statuses = new LinkedHashMap<>();

    private HttpResponse<String> send(String method, String pathAndQuery, byte[] body, String contentType,
            String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.toString().replaceAll("/$", "") + pathAndQuery))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        HttpResponse<String> r;
        try {
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException closedUnderUs) {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString()); // a new connection, as any client
            }
        } catch (java.io.IOException e) {
            if (pathAndQuery.length() > MAX_REQUEST_LINE) {
                statuses.merge("closed", 1, Integer::sum); // past the request line limit: refused
                return null;
            }
            serverErrors.add("no answer (" + e.getMessage() + ") " + method + " " + abbreviate(pathAndQuery)
                    + " body " + (body == null ? "-" : body.length + " bytes " + contentType));
            statuses.merge("none", 1, Integer::sum);
            return null;
        }
        statuses.merge(r.statusCode() / 100 + "xx", 1, Integer::sum);
        if (r.statusCode() >= 500) {
            serverErrors.add(r.statusCode() + " " + method + " " + abbreviate(pathAndQuery) + " body "
                    + (body == null ? "-" : abbreviate(new String(body, StandardCharsets.UTF_8))) + " -> "
                    + abbreviate(r.body() == null ? "" : r.body()));
        }
        return r;
    }

    private static String abbreviate(String s) {
        return s.length() > 160 ? s.substring(0, 160) + "...(" + s.length() + ")" : s;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void tenThousandHostileRegistryRequestsAndTenThousandDeviceOnesChangeNothingTheyShouldNot() throws Exception {
        assertTrue(send("PUT", "/api/registry/devices/keep/fuzz-sentinel", utf8("{}"), "application/json", token)
                .statusCode() < 300);
        assertEquals(204, send("PUT", "/api/registry/credentials/keep/fuzz-sentinel", utf8(
                "[{\"type\":\"hashed-password\",\"auth-id\":\"fuzz-sentinel\",\"secrets\":[{\"pwd-plain\":\"" + PASSWORD
                        + "\"}]}]"), "application/json", token).statusCode());
        for (String d : DEVICES) {
            send("PUT", "/api/registry/devices/demo/" + d, utf8("{}"), "application/json", token);
            send("PUT", "/api/registry/credentials/demo/" + d, utf8("[{\"type\":\"hashed-password\",\"auth-id\":\"" + d
                    + "\",\"secrets\":[{\"pwd-plain\":\"" + PASSWORD + "\"}]}]"), "application/json", token);
        }
        String sentinel = send("GET", "/api/registry/devices/keep/fuzz-sentinel", null, null, token).body();

        Hostile h = new Hostile(20261207L);
        for (int i = 0; i < REQUESTS; i++) {
            registryRequest(h);
        }
        Hostile d = new Hostile(16L);
        for (int i = 0; i < REQUESTS; i++) {
            deviceRequest(d);
        }

        List<String> report = new ArrayList<>(List.of("answers: " + statuses));
        report.addAll(serverErrors);
        java.nio.file.Files.write(java.nio.file.Path.of("target/fuzz-registry.txt"), report);
        assertTrue(serverErrors.isEmpty(), serverErrors.size() + " answers were 5xx or none, the first: "
                + serverErrors.subList(0, Math.min(10, serverErrors.size())) + "; all answers: " + statuses);
        assertEquals(sentinel, send("GET", "/api/registry/devices/keep/fuzz-sentinel", null, null, token).body(),
                "a registration no request addressed changed");
        assertEquals(202, send("POST", "/telemetry", utf8("{\"temperature\":21}"), "application/json",
                basic("fuzz-sentinel@keep", PASSWORD)).statusCode(), "the untouched device can no longer report");
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(management + "health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(statuses.getOrDefault("2xx", 0) > 500 && statuses.getOrDefault("4xx", 0) > 1_000,
                "too few requests were accepted or refused to say anything: " + statuses);
    }

    private String tenant(Hostile h) {
        return h.chance(75) ? h.pick(List.of("demo", "other", "fuzz")) : h.text();
    }

    private String device(Hostile h) {
        return h.chance(75) ? h.pick(DEVICES) : h.text();
    }

    private void registryRequest(Hostile h) throws Exception {
        String tenant = enc(tenant(h));
        String device = enc(device(h));
        String path = switch (h.below(11)) {
            case 0 -> "/api/registry/tenants/" + tenant;
            case 1 -> "/api/registry/tenants/" + tenant + "/limits";
            case 2 -> "/api/registry/tenants/" + tenant + "/egress";
            case 3 -> "/api/registry/tenants/" + tenant + "/trusted-ca";
            case 4, 5 -> "/api/registry/devices/" + tenant + "/" + device;
            case 6 -> "/api/registry/devices/" + tenant + "/" + device + "/modbus";
            case 7 -> "/api/registry/credentials/" + tenant + "/" + device;
            case 8 -> "/api/registry/mappings/" + tenant + "/" + enc(h.chance(50) ? "m-1" : h.text());
            case 9 -> "/api/registry/mappings/" + tenant + "/" + enc(h.chance(50) ? "m-1" : h.text()) + "/try";
            default -> "/api/registry/connections/" + tenant + "/" + enc(h.chance(50) ? "c-1" : h.text());
        };
        String method = h.pick(List.of("GET", "PUT", "PUT", "POST", "DELETE", "PATCH"));
        byte[] body = h.chance(60) ? utf8(registryBody(h)) : h.notJson();
        send(method, path, method.equals("GET") || method.equals("DELETE") ? null : body,
                h.chance(85) ? "application/json" : h.pick(List.of("text/plain", "application/x-www-form-urlencoded",
                        "application/pem-certificate-chain")), h.chance(95) ? token : "Bearer " + h.text()
                                .replaceAll("[^\\x20-\\x7e]", ""));
    }

    /** JSON in the shapes the registry takes, with hostile values in them. */
    private String registryBody(Hostile h) {
        String v = h.json();
        String s = "\"" + Hostile.escape(h.text()) + "\"";
        return switch (h.below(9)) {
            case 0 -> "{\"enabled\":" + h.pick(List.of("true", "false", "null", s)) + ",\"via\":[" + s + "],\"mapping\":"
                    + s + ",\"defaults\":" + v + "}";
            case 1 -> "[{\"type\":" + h.pick(List.of("\"hashed-password\"", "\"psk\"", "\"x509-cert\"", s))
                    + ",\"auth-id\":" + s + ",\"secrets\":[{\"pwd-plain\":" + s + ",\"key\":" + s + "}]}]";
            case 2 -> "{\"max-connections\":" + h.pick(List.of("1", "-1", "0", "1e12", s)) + ",\"messages-per-second\":"
                    + h.pick(List.of("10", "-5", "1.5", "null", s)) + "}";
            case 3 -> "{\"hosts\":[" + s + "],\"allow\":[" + s + "]}";
            case 4 -> "{\"host\":" + h.pick(List.of("\"127.0.0.1\"", "\"10.0.0.1\"", "\"localhost\"", s)) + ",\"port\":"
                    + h.pick(List.of("502", "9092", "-1", "70000", s)) + ",\"unit\":" + h.pick(List.of("1", "300", s))
                    + ",\"every\":" + h.pick(List.of("\"1s\"", "\"0s\"", "\"-1s\"", s)) + ",\"registers\":[" + v + "]}";
            case 5 -> "{\"expression\":" + h.pick(List.of("\"$\"", "\"{\\\"a\\\": x}\"", s)) + ",\"payload\":" + v + "}";
            case 6 -> "{\"uri\":" + h.pick(List.of("\"tcp://127.0.0.1:1\"", "\"ssl://x:8883\"", "\"file:///etc/passwd\"", s))
                    + ",\"username\":" + s + ",\"password\":" + s + ",\"subscriptions\":[" + v + "]}";
            case 7 -> "{\"pem\":" + s + "}";
            default -> v;
        };
    }

    private void deviceRequest(Hostile h) throws Exception {
        String who = h.chance(60) ? h.pick(DEVICES) + "@demo" : h.text().replace(":", "");
        String authorization = switch (h.below(5)) {
            case 0, 1, 2 -> basic(who, h.chance(85) ? PASSWORD : h.text());
            case 3 -> "Basic " + h.text().replaceAll("[^\\x20-\\x7e]", "");
            default -> null;
        };
        String path = switch (h.below(6)) {
            case 0, 1 -> "/telemetry";
            case 2 -> "/event";
            case 3 -> "/telemetry/" + enc(tenant(h)) + "/" + enc(device(h));
            case 4 -> "/command/res/" + enc(h.text()) + "?hono-cmd-status=" + enc(h.pick(List.of("200", "-1", "999",
                    h.text())));
            default -> "/event/" + enc(tenant(h)) + "/" + enc(device(h));
        };
        if (h.chance(20)) {
            // No waits of seconds: a ttd the adapter takes holds the request open that long.
            path += (path.contains("?") ? "&" : "?") + "hono-ttd=" + enc(h.pick(List.of("0", "-1", "1e3", "x",
                    "9223372036854775808")));
        }
        byte[] body = h.chance(50) ? utf8(h.json()) : h.notJson();
        send(h.chance(90) ? "POST" : h.pick(List.of("PUT", "GET", "DELETE")), path, body,
                h.chance(70) ? "application/json" : h.pick(List.of("text/plain", "application/octet-stream",
                        "application/cbor", "application/json; charset=utf-16", "")),
                authorization);
    }
}

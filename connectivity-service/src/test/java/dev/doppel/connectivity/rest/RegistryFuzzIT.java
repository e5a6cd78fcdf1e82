package dev.doppel.connectivity.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.testing.EventLoopLag;
import dev.doppel.devstack.testing.FuzzClient;
import dev.doppel.devstack.testing.Hostile;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import jakarta.inject.Inject;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
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
    private static final String PASSWORD = "fuzz-secret";
    private static final List<String> DEVICES = List.of("fuzz-1", "fuzz-2");

    @TestHTTPResource("/")
    URL api;

    /** Health: the management interface (its URL ends in /q/), not the API port. */
    @Inject
    Vertx vertx;

    @TestHTTPResource(value = "", management = true)
    URL management;

    private final String token = "Bearer " + RealInfrastructure.token("admin");
    private FuzzClient client;

    private HttpResponse<String> send(String method, String pathAndQuery, byte[] body, String contentType,
            String authorization) throws Exception {
        return client.send(method, pathAndQuery, body, contentType,
                authorization == null ? Map.of() : Map.of("Authorization", authorization));
    }

    private static String enc(String s) {
        return FuzzClient.enc(s);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void tenThousandHostileRegistryRequestsAndTenThousandDeviceOnesChangeNothingTheyShouldNot() throws Exception {
        client = new FuzzClient(api.toString(), 65_536); // a device body past doppel.http.max-payload-bytes is refused
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

        // Every event loop stays free (the watch shows at the end that it sees one held).
        EventLoopLag held = EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup());
        Hostile h = new Hostile(20261207L);
        for (int i = 0; i < REQUESTS; i++) {
            registryRequest(h);
        }
        Hostile d = new Hostile(16L);
        for (int i = 0; i < REQUESTS; i++) {
            deviceRequest(d);
        }

        client.report(java.nio.file.Path.of("target/fuzz-registry.txt"));
        held.assertNoneHeldLongerThan(Duration.ofSeconds(2));
        assertNull(client.problems());
        assertEquals(sentinel, send("GET", "/api/registry/devices/keep/fuzz-sentinel", null, null, token).body(),
                "a registration no request addressed changed");
        assertEquals(202, send("POST", "/telemetry", utf8("{\"temperature\":21}"), "application/json",
                basic("fuzz-sentinel@keep", PASSWORD)).statusCode(), "the untouched device can no longer report");
        HttpResponse<String> ready = client.get(management + "health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(client.answered("2xx") > 500 && client.answered("4xx") > 1_000,
                "too few requests were accepted or refused to say anything: " + client.answers());
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
            case 3 -> "/api/registry/tenants/" + tenant + (h.chance(50) ? "/trusted-ca" : "/crls");
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
            case 7 -> h.pick(List.of("{\"pem\":", "[{\"cert\":", "[{\"crl\":")) + s
                    + h.pick(List.of("}", "}]", "},{}]"));
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

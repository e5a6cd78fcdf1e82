package dev.doppel.command.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.doppel.command.RegisteredDevices;
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
import java.io.IOException;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hostile input against command-service: the commands API (send, list, read, cancel), Ditto's inbox
 * and GraphQL, from fixed seeds, as four users (dt-admin, an operator and a viewer of tenant
 * {@code demo}, an operator of tenant {@code other}) and as strangers with forged tokens. Never a 5xx
 * or a request left without an answer; the viewer never sends or cancels; the other tenant's operator
 * never reads, lists or cancels a command of {@code demo} (and does see their own); a command no
 * request addressed stays as it was; the service is ready at the end.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class CommandApiFuzzIT {

    private static final int REQUESTS = 10_000;
    private static final String SENTINEL_THING = "keep:fuzz-sentinel";
    private static final List<String> THINGS = List.of("demo:fuzz-1", "demo:fuzz-2", "other:fuzz-3");
    private static final List<String> USERS = List.of("admin", "olivia", "olivia", "victor", "mallory");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL api;

    /** Health: the management interface (its URL ends in /q/), not the API port. */
    @TestHTTPResource(value = "", management = true)
    URL management;

    @Inject
    Vertx vertx;

    private FuzzClient client;
    /** Ids of commands of tenant demo the run created: what mallory must never reach. */
    private final List<String> demoCommands = new ArrayList<>();
    private final List<String> escapes = new ArrayList<>();
    private int viewerReads;
    private int otherTenantOwnReads;

    private HttpResponse<String> send(String user, String method, String pathAndQuery, byte[] body,
            String contentType, Map<String, String> headers) throws Exception {
        Map<String, String> all = new LinkedHashMap<>(headers);
        if (user != null) {
            all.put("Authorization", "Bearer " + RealInfrastructure.token(user));
        }
        return client.send(method, pathAndQuery, body, contentType, all);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String enc(String s) {
        return FuzzClient.enc(s);
    }

    @Test
    void tenThousandHostileRestRequestsAndTenThousandGraphQlOnesReachNothingTheyShouldNot() throws Exception {
        // Every event loop stays free (the watch shows that it sees a block at the end).
        try (EventLoopLag held = EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup())) {
            client = new FuzzClient(api.toString(), 10 * 1024 * 1024); // Quarkus' default body limit
            RegisteredDevices.register("demo:fuzz-1", "demo:fuzz-2", "other:fuzz-3", SENTINEL_THING);
            HttpResponse<String> queued = send("admin", "POST", "/api/commands", utf8("{\"thingId\":\"" + SENTINEL_THING
                    + "\",\"subject\":\"keep\",\"payload\":{\"on\":true},\"timeout\":\"60s\",\"ttl\":\"1h\"}"),
                    "application/json", Map.of());
            assertEquals(202, queued.statusCode(), queued.body());
            String sentinelPath = "/api/commands/" + enc(id(queued.body()));
            String sentinel = send("admin", "GET", sentinelPath, null, null, Map.of()).body();

            Hostile h = new Hostile(20261207L);
            for (int i = 0; i < REQUESTS; i++) {
                restRequest(h);
            }
            Hostile g = new Hostile(11L);
            for (int i = 0; i < REQUESTS; i++) {
                graphqlRequest(g);
            }
            // Whatever mallory asked for during the run, no command of demo reads as hers afterwards either.
            for (String id : demoCommands.subList(0, Math.min(200, demoCommands.size()))) {
                HttpResponse<String> r = send("mallory", "GET", "/api/commands/" + enc(id), null, null, Map.of());
                if (r != null && r.statusCode() != 404) {
                    escapes.add("mallory read demo's command " + id + " -> " + r.statusCode());
                }
            }

            java.nio.file.Path report = java.nio.file.Path.of("target/fuzz-command-api.txt");
            client.report(report);
            java.nio.file.Files.writeString(report, "commands of demo created: " + demoCommands.size() + ", viewer reads: "
                    + viewerReads + ", mallory's reads of her own: " + otherTenantOwnReads + "\n",
                    java.nio.file.StandardOpenOption.APPEND);
            assertNull(client.problems());
            assertTrue(escapes.isEmpty(), "requests reached what the caller may not: " + escapes);
            assertEquals(sentinel, send("admin", "GET", sentinelPath, null, null, Map.of()).body(),
                    "a command no request addressed changed");
            held.assertNoneHeldLongerThan(Duration.ofSeconds(2));
            HttpResponse<String> ready = client.get(management + "health/ready");
            assertEquals(200, ready.statusCode(), ready.body());
            // Positive controls of the checks above: the run reached the handlers and the store, demo's
            // commands were there to be reached, and both the viewer and mallory were answered with data.
            assertTrue(client.answered("2xx") > 1_000 && client.answered("4xx") > 1_000,
                    "too few requests were accepted or refused to say anything: " + client.answers());
            assertTrue(demoCommands.size() > 20, "too few commands of demo were created: " + demoCommands.size());
            assertTrue(viewerReads > 50 && otherTenantOwnReads > 50,
                    "the viewer read " + viewerReads + " times, mallory her own commands " + otherTenantOwnReads + " times");
        }
    }

    /** The command id in an answer's JSON body, or null. */
    private static String id(String body) {
        try {
            return body == null ? null : JSON.readTree(body).path("id").asText(null);
        } catch (IOException notJson) {
            return null;
        }
    }

    private String thing(Hostile h) {
        return h.chance(80) ? h.pick(THINGS) : h.text();
    }

    private String commandId(Hostile h) {
        if (h.chance(60) && !demoCommands.isEmpty()) {
            return demoCommands.get(h.below(demoCommands.size()));
        }
        return h.pick(List.of(h.text(), "00000000-0000-0000-0000-000000000000", "{\"$ne\":null}", "..%2F..",
                "a".repeat(5_000)));
    }

    private void restRequest(Hostile h) throws Exception {
        String user = h.chance(92) ? h.pick(USERS) : null;
        Map<String, String> headers = new LinkedHashMap<>();
        if (user == null && h.chance(80)) {
            headers.put("Authorization", "Bearer " + h.pick(List.of("a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
                    h.text().replaceAll("[^\\x21-\\x7e]", ""))));
        }
        HttpResponse<String> r;
        String kind;
        switch (h.below(8)) {
            case 0, 1, 2 -> {
                kind = "send";
                if (h.chance(25)) {
                    headers.put(CommandsResource.IDEMPOTENCY_KEY,
                            h.chance(50) ? "k-" + h.below(20) : h.text().replaceAll("[^\\x20-\\x7e]", "x"));
                }
                r = send(user, "POST", "/api/commands", h.chance(75) ? utf8(sendBody(h)) : h.notJson(),
                        h.chance(90) ? "application/json" : h.pick(List.of("text/plain", "application/xml", "")),
                        headers);
            }
            case 3 -> {
                kind = "inbox";
                // Always a timeout: without one the call waits for a device that is not there (10 s).
                String timeout = h.pick(List.of("0", "0", "1ms", "30ms", "-1", "1e3", "61s", "999999999d", "x",
                        h.text().isBlank() ? "0" : h.text()));
                byte[] body = h.chance(50) ? utf8(h.json()) : h.notJson();
                r = send(user, "POST", "/api/2/things/" + enc(thing(h)) + "/inbox/messages/"
                        + enc(h.chance(60) ? h.pick(List.of("switch", "reboot", "a.b~c:d")) : h.text())
                        + "?timeout=" + enc(timeout), body, h.pick(List.of("application/json", "text/plain",
                                "application/octet-stream", "application/json; charset=utf-16", "x/y")), headers);
            }
            case 4, 5 -> {
                kind = "list";
                r = send(user, "GET", "/api/commands?" + listQuery(h), null, null, headers);
            }
            case 6 -> {
                kind = "read";
                r = send(user, "GET", "/api/commands/" + enc(commandId(h)), null, null, headers);
            }
            default -> {
                kind = "cancel";
                r = send(user, "DELETE", "/api/commands/" + enc(commandId(h)), null, null, headers);
            }
        }
        check(user, kind, r);
    }

    /** What each answer may show: roles and tenants hold, whatever the input. */
    private void check(String user, String kind, HttpResponse<String> r) {
        if (r == null) {
            return;
        }
        int status = r.statusCode();
        boolean ok = status >= 200 && status < 300;
        boolean writes = kind.equals("send") || kind.equals("inbox") || kind.equals("cancel");
        if (ok && user == null) {
            escapes.add("a stranger was answered " + status + " on " + kind);
        }
        if (ok && writes && "victor".equals(user)) {
            escapes.add("the viewer was answered " + status + " on " + kind);
        }
        if ("victor".equals(user) && ok && !writes) {
            viewerReads++;
        }
        if ("mallory".equals(user) && ok) {
            tenantsShown("mallory", kind, r.body(), NullNode.getInstance());
        }
        if (status == 202 && createdForDemo(r)) {
            demoCommands.add(id(r.body()));
        }
    }

    /**
     * mallory may see only tenant other's things: every thing id in an answer to her (in GraphQL,
     * under {@code data}) is other's; counts the answers that showed her own.
     */
    private void tenantsShown(String user, String kind, String body, JsonNode data) {
        List<String> ids = new ArrayList<>();
        try {
            JsonNode node = data.isNull() ? JSON.readTree(body) : data;
            node.findValues("thingId").forEach(v -> ids.add(v.asText()));
        } catch (IOException notJson) {
            return; // a device's answer through the inbox is the device's bytes
        }
        for (String id : ids) {
            if (!id.startsWith("other:")) {
                escapes.add(user + " was shown " + id + " on " + kind);
            }
        }
        if (!ids.isEmpty() && ids.stream().allMatch(id -> id.startsWith("other:"))) {
            otherTenantOwnReads++;
        }
    }

    /** Whether a 202 was for a thing of tenant demo: the command says so when read back. */
    private boolean createdForDemo(HttpResponse<String> r) {
        String location = r.headers().firstValue("Location").orElse(null);
        if (location == null) {
            return false;
        }
        try {
            HttpResponse<String> read = send("admin", "GET", java.net.URI.create(location).getPath(), null, null,
                    Map.of());
            return read != null && read.statusCode() == 200 && read.body().contains("\"thingId\":\"demo:");
        } catch (Exception e) {
            return false;
        }
    }

    /** JSON in the shape the send endpoint takes, with hostile values in it. */
    private String sendBody(Hostile h) {
        String s = "\"" + Hostile.escape(h.text()) + "\"";
        List<String> members = new ArrayList<>();
        if (h.chance(90)) {
            members.add("\"thingId\":" + (h.chance(80) ? "\"" + Hostile.escape(h.pick(THINGS)) + "\"" : h.pick(List.of(s,
                    "null", "1", "[]", "{\"$ne\":null}"))));
        }
        if (h.chance(90)) {
            members.add("\"subject\":" + (h.chance(70) ? "\"" + h.pick(List.of("switch", "reboot", "set.point")) + "\""
                    : s));
        }
        if (h.chance(70)) {
            members.add("\"payload\":" + (h.chance(5) ? "\"" + "x".repeat(70_000) + "\"" : h.json()));
        }
        if (h.chance(30)) {
            members.add("\"contentType\":" + h.pick(List.of("\"application/json\"", "\"text/plain\"", s, "1")));
        }
        if (h.chance(50)) {
            members.add("\"timeout\":" + h.pick(List.of("\"10s\"", "\"0\"", "\"-1s\"", "\"61s\"", "\"1e3\"", s, "10")));
        }
        if (h.chance(40)) {
            members.add("\"ttl\":" + h.pick(List.of("\"1h\"", "\"0\"", "\"8d\"", "\"999999999d\"", s, "[]")));
        }
        if (h.chance(20)) {
            members.add("\"responseRequired\":" + h.pick(List.of("true", "false", "null", s, "1")));
        }
        if (h.chance(10)) {
            members.add("\"" + Hostile.escape(h.text()) + "\":" + h.json());
        }
        return "{" + String.join(",", members) + "}";
    }

    private String listQuery(Hostile h) {
        List<String> params = new ArrayList<>();
        if (h.chance(50)) {
            params.add("thingId=" + enc(thing(h)));
        }
        if (h.chance(30)) {
            params.add("status=" + enc(h.chance(60) ? h.pick(List.of("QUEUED", "CANCELLED", "SUCCEEDED", "queued"))
                    : h.text()));
        }
        if (h.chance(30)) {
            params.add("since=" + enc(h.chance(50) ? "2026-01-01T00:00:00Z" : h.text()));
        }
        if (h.chance(30)) {
            params.add("limit=" + enc(h.pick(List.of("1", "200", "201", "0", "-1", "99999999999", h.text()))));
        }
        return String.join("&", params);
    }

    private void graphqlRequest(Hostile h) throws Exception {
        String user = h.chance(95) ? h.pick(USERS) : null;
        String thing = Hostile.escape(thing(h));
        String query = switch (h.below(7)) {
            case 0 -> "mutation { sendCommand(thingId: \"" + thing + "\", subject: \"" + Hostile.escape(h.chance(60)
                    ? "switch" : h.text()) + "\", " + (h.chance(50) ? "json: " + h.json() : "text: \""
                            + Hostile.escape(h.text()) + "\"") + ", timeout: \"" + Hostile.escape(h.pick(List.of("10s",
                                    "0", h.text()))) + "\") { id status thingId } }";
            case 1 -> "{ command(id: \"" + Hostile.escape(commandId(h)) + "\") { id thingId status } }";
            case 2 -> "{ commands(thingId: \"" + thing + "\", limit: " + (h.below(400) - 100)
                    + (h.chance(30) ? ", since: \"" + Hostile.escape(h.text()) + "\"" : "") + ") { id thingId } }";
            case 3 -> "{ commands { id thingId } }";
            case 4 -> "{" + "a: commands(limit: 200) { id } ".repeat(1 + h.below(2_000)) + "}";
            case 5 -> "{ command(id: \"x\") " + "{ id ".repeat(1 + h.below(500)) + "}".repeat(1 + h.below(500)) + " }";
            default -> h.text();
        };
        byte[] body = h.chance(85) ? utf8("{\"query\":\"" + Hostile.escape(query) + "\",\"variables\":"
                + (h.chance(30) ? h.json() : "{}") + "}") : h.notJson();
        HttpResponse<String> r = send(user, "POST", "/graphql", body, h.chance(90) ? "application/json"
                : h.pick(List.of("text/plain", "application/graphql")), Map.of());
        if (r == null) {
            return;
        }
        // GraphQL answers 200 with errors: what the caller may not see must be absent from the data.
        JsonNode data;
        try {
            data = JSON.readTree(r.body()).path("data");
        } catch (IOException notJson) {
            return;
        }
        if (data.isMissingNode() || data.isNull()) {
            return;
        }
        if ("mallory".equals(user)) {
            tenantsShown("mallory", "graphql", null, data);
        }
        if ("victor".equals(user) && !data.path("sendCommand").isMissingNode() && !data.path("sendCommand").isNull()) {
            escapes.add("the viewer sent a command over GraphQL: " + FuzzClient.abbreviate(r.body()));
        }
        if (user == null && data.size() > 0 && data.elements().next().isContainerNode()) {
            escapes.add("a stranger was answered with data over GraphQL: " + FuzzClient.abbreviate(r.body()));
        }
    }
}

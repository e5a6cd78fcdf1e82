package dev.doppel.twin.rest;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hostile input against the twin REST API (things, paths in them, search, count, history) and
 * GraphQL, from fixed seeds: 10,000 requests each. Whatever comes, the answer is never a 5xx, a write
 * that is refused changes nothing stored, a twin nobody addressed stays as it was, and the service
 * is still ready at the end.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class TwinApiFuzzIT {

    private static final int REQUESTS = 10_000;
    private static final String SENTINEL = "demo:fuzz-sentinel";
    private static final List<String> TWINS = List.of("demo:fuzz-1", "demo:fuzz-2", "other:fuzz-3");

    @TestHTTPResource("/")
    URL api;

    /** Health: the management interface (its URL ends in /q/), not the API port. */
    @TestHTTPResource(value = "", management = true)
    URL management;

    @Inject
    Vertx vertx;

    private final String token = RealInfrastructure.token("admin");
    private final List<String> changedByRefusedWrites = new ArrayList<>();
    private FuzzClient client;

    private HttpResponse<String> send(String method, String pathAndQuery, byte[] body, String contentType,
            Map<String, String> headers) throws Exception {
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.put("Authorization", "Bearer " + token);
        return client.send(method, pathAndQuery, body, contentType, all);
    }

    private static String abbreviate(String s) {
        return FuzzClient.abbreviate(s);
    }

    private static String enc(String s) {
        return FuzzClient.enc(s);
    }

    private String get(String thingId) throws Exception {
        HttpResponse<String> r = send("GET", "/api/2/things/" + enc(thingId), null, null, Map.of());
        if (r == null) {
            return "no answer";
        }
        return r.statusCode() + " " + r.headers().firstValue("ETag").orElse("") + " " + r.body();
    }

    @Test
    void tenThousandHostileRestRequestsAndTenThousandGraphQlOnesChangeNothingTheyShouldNot() throws Exception {
        // Every event loop stays free (the watch shows that it sees a block at the end).
        try (EventLoopLag held = EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup())) {
            client = new FuzzClient(api.toString(), 10 * 1024 * 1024); // Quarkus' default body limit
            assertEquals(201, send("PUT", "/api/2/things/" + SENTINEL, """
                    {"attributes":{"site":"lab"},"features":{"t":{"properties":{"v":1}}}}"""
                    .getBytes(StandardCharsets.UTF_8), "application/json", Map.of()).statusCode());
            for (String twin : TWINS) {
                send("PUT", "/api/2/things/" + twin, "{\"attributes\":{\"a\":1},\"features\":{\"f\":{\"properties\":{\"p\":1}}}}"
                        .getBytes(StandardCharsets.UTF_8), "application/json", Map.of());
            }
            String sentinel = get(SENTINEL);

            Hostile h = new Hostile(20261207L);
            for (int i = 0; i < REQUESTS; i++) {
                restRequest(h);
            }
            Hostile g = new Hostile(7L);
            for (int i = 0; i < REQUESTS; i++) {
                graphqlRequest(g);
            }

            client.report(java.nio.file.Path.of("target/fuzz-twin-api.txt"));
            assertNull(client.problems());
            assertTrue(changedByRefusedWrites.isEmpty(), "refused writes changed their twin: " + changedByRefusedWrites);
            assertEquals(sentinel, get(SENTINEL), "a twin no request addressed changed");
            held.assertNoneHeldLongerThan(Duration.ofSeconds(2));
            HttpResponse<String> ready = client.get(management + "health/ready");
            assertEquals(200, ready.statusCode(), ready.body());
            // The positive control of "nothing changed": the run did reach the handlers and the store.
            assertTrue(client.answered("2xx") > 1_000 && client.answered("4xx") > 1_000,
                    "too few requests were accepted or refused to say anything: " + client.answers());
        }
    }

    private void restRequest(Hostile h) throws Exception {
        String thing = h.chance(70) ? h.pick(TWINS) : h.text();
        String thingPath = "/api/2/things/" + (h.chance(90) ? enc(thing) : thing.replaceAll("[^A-Za-z0-9:._~-]", ""));
        switch (h.below(10)) {
            case 0 -> send("GET", "/api/2/search/things?" + searchQuery(h), null, null, Map.of());
            case 1 -> send("GET", "/api/2/search/things/count?filter=" + enc(rql(h, 3)), null, null, Map.of());
            case 2 -> send("GET", thingPath + "/history?" + historyQuery(h), null, null, Map.of());
            case 3 -> send("GET", thingPath + (h.chance(50) ? "?fields=" + enc(fields(h)) : "/" + path(h)), null, null,
                    conditions(h));
            case 4 -> send("GET", "/api/2/things?ids=" + enc(h.chance(50) ? String.join(",", TWINS) : h.text()), null,
                    null, Map.of());
            default -> write(h, thing, thingPath);
        }
    }

    /** A write; when it is refused and its twin is one of ours, the twin must be as it was. */
    private void write(Hostile h, String thing, String thingPath) throws Exception {
        String method = h.pick(List.of("PUT", "PATCH", "DELETE", "POST"));
        String target = h.chance(40) ? thingPath : thingPath + "/" + path(h);
        byte[] body = h.chance(50) ? h.json().getBytes(StandardCharsets.UTF_8) : h.notJson();
        String type = h.pick(List.of("application/json", "application/merge-patch+json", "text/plain",
                "application/json; charset=latin1", "application/x-www-form-urlencoded"));
        boolean ours = TWINS.contains(thing) && !thingPath.contains("%");
        String before = ours && !target.equals(thingPath) ? get(thing) : null;
        HttpResponse<String> r = send(method, target, method.equals("DELETE") ? null : body, type, conditions(h));
        if (r == null) {
            return;
        }
        if (before != null && r.statusCode() >= 400) {
            String after = get(thing);
            if (!after.equals(before)) {
                changedByRefusedWrites.add(method + " " + abbreviate(target) + " -> " + r.statusCode());
            }
        }
        if (ours && r.statusCode() < 300 && method.equals("DELETE") && target.equals(thingPath)) {
            send("PUT", thingPath, "{\"attributes\":{\"a\":1}}".getBytes(StandardCharsets.UTF_8), "application/json",
                    Map.of()); // put it back, so later writes have something to refuse against
        }
    }

    private Map<String, String> conditions(Hostile h) {
        if (!h.chance(20)) {
            return Map.of();
        }
        String value = h.pick(List.of("*", "\"rev:1\"", "\"rev:-1\"", "\"rev:99999999999999999999\"", "W/\"x\"",
                h.text().replaceAll("[^\\x20-\\x7e]", "")));
        return Map.of(h.chance(50) ? "If-Match" : "If-None-Match", value.isEmpty() ? "x" : value);
    }

    private String path(Hostile h) {
        List<String> segments = new ArrayList<>();
        int n = h.chance(5) ? 50 + h.below(400) : 1 + h.below(5);
        for (int i = 0; i < n; i++) {
            segments.add(h.chance(60) ? h.pick(List.of("attributes", "features", "properties", "desiredProperties",
                    "definition", "thingId", "policyId", "_revision", "f", "p", "a")) : enc(h.text()));
        }
        return String.join("/", segments);
    }

    private String fields(Hostile h) {
        return switch (h.below(4)) {
            case 0 -> "thingId,attributes,features/f/properties/p";
            case 1 -> "features/*/properties/" + h.text();
            case 2 -> "attributes(" + "a(".repeat(h.below(200)) + "b" + ")".repeat(h.below(200)) + ")";
            default -> h.text();
        };
    }

    private String rql(Hostile h, int depth) {
        if (depth <= 0 || h.chance(30)) {
            String op = h.pick(List.of("eq", "ne", "gt", "ge", "lt", "le", "like", "ilike", "in", "exists", "sw",
                    "unknown", ""));
            String field = h.chance(60) ? h.pick(List.of("thingId", "attributes/a", "features/f/properties/p",
                    "_modified", "_created", "/attributes/a", "attributes/$where")) : h.text();
            String value = switch (h.below(5)) {
                case 0 -> "\"" + h.pick(List.of("*", "**a*b*c*d*e*f*g*h*", "?", "demo:*", "x")).repeat(1 + h.below(50)) + "\"";
                case 1 -> h.pick(List.of("1", "-1e309", "true", "null", "'x'", "time:now"));
                case 2 -> "\"" + Hostile.escape(h.text()) + "\"";
                default -> h.text();
            };
            return op + "(" + field + "," + value + ")";
        }
        if (h.chance(3)) {
            return "and(".repeat(2_000) + "eq(a,1)" + ")".repeat(2_000);
        }
        String op = h.pick(List.of("and", "or", "not"));
        int n = op.equals("not") ? 1 : 1 + h.below(4);
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            parts.add(rql(h, depth - 1));
        }
        return op + "(" + String.join(",", parts) + ")";
    }

    private String searchQuery(Hostile h) {
        List<String> params = new ArrayList<>();
        if (h.chance(80)) {
            params.add("filter=" + enc(rql(h, 3)));
        }
        if (h.chance(50)) {
            params.add("option=" + enc(h.pick(List.of("size(" + h.below(10_000) + ")", "size(-1)", "limit(0,5)",
                    "sort(+thingId)", "sort(-attributes/" + h.text() + ")", "cursor(" + h.text() + ")",
                    "cursor(eyJmaWx0ZXIiOnsiJHdoZXJlIjoic2xlZXAoMTAwMDApIn19)", h.text()))));
        }
        if (h.chance(30)) {
            params.add("fields=" + enc(fields(h)));
        }
        if (h.chance(20)) {
            params.add("namespaces=" + enc(h.text()));
        }
        return String.join("&", params);
    }

    private String historyQuery(Hostile h) {
        List<String> params = new ArrayList<>();
        String[] names = {"path", "from", "to", "limit", "revision", "at"};
        for (String name : names) {
            if (h.chance(35)) {
                params.add(name + "=" + enc(h.chance(40) ? h.pick(List.of("2026-12-07T00:00:00Z", "-1", "0",
                        "99999999999", "features/f/properties/p", "1")) : h.text()));
            }
        }
        return String.join("&", params);
    }

    private void graphqlRequest(Hostile h) throws Exception {
        String query = switch (h.below(8)) {
            case 0 -> "{ twin(thingId: \"" + Hostile.escape(h.chance(50) ? h.pick(TWINS) : h.text())
                    + "\") { thingId revision attributes } }";
            case 1 -> "{ twins(filter: \"" + Hostile.escape(rql(h, 2)) + "\", first: " + (h.below(3000) - 1000)
                    + ") { edges { node { thingId } } } }";
            case 2 -> "{" + "a: twin(thingId: \"demo:fuzz-1\") { thingId } ".repeat(1 + h.below(2_000)) + "}";
            case 3 -> "{ twin(thingId: \"demo:fuzz-1\") " + "{ thingId ".repeat(1 + h.below(500))
                    + "}".repeat(1 + h.below(500)) + " }";
            case 4 -> "mutation { setDesiredProperty(thingId: \"" + Hostile.escape(h.pick(TWINS)) + "\", feature: \""
                    + Hostile.escape(h.text()) + "\", property: \"" + Hostile.escape(h.text()) + "\", value: "
                    + h.json() + ") { thingId } }";
            case 5 -> "query($id: String!) { twin(thingId: $id) { thingId } }";
            case 6 -> "{ twinAt(thingId: \"demo:fuzz-1\", at: \"" + Hostile.escape(h.text()) + "\") { thingId } }";
            default -> h.text();
        };
        String variables = h.chance(30) ? h.json() : "{\"id\":\"" + Hostile.escape(h.text()) + "\"}";
        byte[] body = h.chance(85)
                ? ("{\"query\":\"" + Hostile.escape(query) + "\",\"variables\":" + variables + "}")
                        .getBytes(StandardCharsets.UTF_8)
                : h.notJson();
        send("POST", "/graphql", body, h.chance(90) ? "application/json" : h.pick(List.of("text/plain",
                "application/graphql", "multipart/form-data")), Map.of());
    }
}

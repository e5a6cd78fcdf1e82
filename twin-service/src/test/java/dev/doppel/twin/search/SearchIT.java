package dev.doppel.twin.search;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.testing.RealInfrastructure;
import dev.doppel.support.store.Queries;
import dev.doppel.twin.testing.StoreCommands;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import jakarta.inject.Inject;
import org.bson.BsonDocument;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Search with RQL against the real stack: operators, sorting, stable cursor paging, counts, tenants. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class SearchIT {

    private static boolean seeded;

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user));
    }

    @BeforeEach
    void fleet() {
        if (seeded) {
            return;
        }
        seeded = true;
        for (int i = 0; i < 12; i++) {
            String body = String.format(Locale.ROOT, "{\"attributes\":{\"fleet\":\"search\",\"site\":\"%s\",\"name\":\"pump-%02d\",\"rank\":%d},"
                    + "\"features\":{\"telemetry\":{\"properties\":{\"temperature\":%d}}}}", i % 2 == 0 ? "north" : "south",
                    i, 12 - i, 10 + i);
            as("admin").contentType("application/json").body(body).put("/api/2/things/demo:s" + String.format("%02d", i))
                    .then().statusCode(201);
        }
        as("admin").contentType("application/json").body("{\"attributes\":{\"fleet\":\"search\",\"site\":\"north\"}}")
                .put("/api/2/things/other:s99").then().statusCode(201);
    }

    /** Things of this test's fleet only: other tests in the module write twins to the same database. */
    private static List<String> ids(String filter, String option) {
        return as("admin").queryParam("filter", "and(eq(attributes/fleet,\"search\")," + filter + ")").queryParam("option", option)
                .get("/api/2/search/things").then().statusCode(200).extract().jsonPath().getList("items.thingId");
    }

    @Inject
    StoreCommands store;

    @Test
    void searchesAndCountsCarryTheStoresTimeLimit() {
        store.clear();
        assertEquals(List.of("demo:s10", "demo:s11"), ids("ge(features/telemetry/properties/temperature,20)", null));
        as("admin").queryParam("filter", "eq(attributes/fleet,\"search\")").get("/api/2/search/things/count")
                .then().statusCode(200);
        // Searches are the sorted finds, counts the aggregations (lookups by id, which the service's own
        // writes make meanwhile, carry no limit).
        List<BsonDocument> sent = store.on("twins").stream()
                .filter(q -> q.containsKey("aggregate") || q.containsKey("sort")).toList();
        assertTrue(sent.stream().anyMatch(q -> q.containsKey("find")), "no search reached the store: " + sent);
        assertTrue(sent.stream().anyMatch(q -> q.containsKey("aggregate")), "no count reached the store: " + sent);
        for (BsonDocument q : sent) {
            assertEquals(Queries.maxTimeMillis(), q.containsKey("maxTimeMS") ? q.getNumber("maxTimeMS").longValue() : -1,
                    "a query without the store's time limit: " + q.toJson());
        }
    }

    @Test
    void operatorsSelectTheRightThings() {
        assertEquals(List.of("demo:s00", "demo:s02"),
                ids("and(eq(attributes/site,\"north\"),lt(features/telemetry/properties/temperature,14),like(thingId,\"demo:*\"))", null));
        assertEquals(List.of("demo:s10", "demo:s11"), ids("ge(features/telemetry/properties/temperature,20)", null));
        assertEquals(List.of("demo:s01", "demo:s03"), ids("in(attributes/name,\"pump-01\",\"pump-03\")", null));
        assertEquals(List.of("demo:s05", "demo:s07"),
                ids("or(eq(attributes/name,\"pump-05\"),eq(attributes/name,\"pump-07\"))", null));
        assertEquals(List.of("demo:s00", "demo:s01"), ids("like(attributes/name,\"pump-0?\")", "size(2)"));
        assertEquals(12, ids("not(eq(attributes/site,\"west\"))", "size(50)").stream().filter(i -> i.startsWith("demo:s")).count());
        assertEquals(List.of(), ids("exists(attributes/missing)", null));
    }

    @Test
    void sortsAndPagesWithACursorThatSurvivesConcurrentWrites() {
        List<String> all = ids("eq(attributes/site,\"north\")", "sort(-attributes/rank),size(50)");
        assertEquals(7, all.size());
        assertEquals("demo:s00", all.get(0)); // rank 12 first
        List<String> paged = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            String option = "sort(-attributes/rank),size(3)" + (cursor == null ? "" : ",cursor(" + cursor + ")");
            JsonPath page = as("admin").queryParam("filter", "and(eq(attributes/fleet,\"search\"),eq(attributes/site,\"north\"))").queryParam("option", option)
                    .get("/api/2/search/things").then().statusCode(200).extract().jsonPath();
            paged.addAll(page.getList("items.thingId"));
            cursor = page.getString("cursor");
            if (pages++ == 0) {
                // A write between pages (a new thing sorting before the cursor) neither repeats nor skips items.
                as("admin").contentType("application/json").body("{\"attributes\":{\"fleet\":\"search\",\"site\":\"north\",\"rank\":100}}")
                        .put("/api/2/things/demo:late").then().statusCode(201);
            }
        } while (cursor != null && pages < 10);
        assertEquals(all, paged);
        Set<String> unique = new HashSet<>(paged);
        assertEquals(paged.size(), unique.size());
    }

    @Test
    void countsAndResultsOnlyEverContainTheCallersTenants() {
        long adminCount = Long.parseLong(as("admin").queryParam("filter", "and(eq(attributes/fleet,\"search\"),eq(attributes/site,\"north\"))")
                .get("/api/2/search/things/count").then().statusCode(200).extract().asString());
        long oliviaCount = Long.parseLong(as("olivia").queryParam("filter", "and(eq(attributes/fleet,\"search\"),eq(attributes/site,\"north\"))")
                .get("/api/2/search/things/count").then().statusCode(200).extract().asString());
        assertEquals(adminCount - 1, oliviaCount, "olivia must not count other:s99");
        List<String> seenByOlivia = as("olivia").queryParam("option", "size(200)").get("/api/2/search/things")
                .then().statusCode(200).extract().jsonPath().getList("items.thingId");
        assertTrue(seenByOlivia.stream().allMatch(i -> i.startsWith("demo:")), seenByOlivia.toString());
        List<String> seenByMallory = as("mallory").queryParam("option", "size(200)").get("/api/2/search/things")
                .then().statusCode(200).extract().jsonPath().getList("items.thingId");
        assertTrue(seenByMallory.stream().allMatch(i -> i.startsWith("other:")), seenByMallory.toString());
        given().get("/api/2/search/things").then().statusCode(401);
    }

    @Test
    void badFiltersAreProblemsThatSayWhere() {
        as("admin").queryParam("filter", "eq(attributes/site \"north\")").get("/api/2/search/things").then()
                .statusCode(400).contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/invalid-filter"))
                .body("detail", containsString("position 19"));
        as("admin").queryParam("filter", "eq($where,1)").get("/api/2/search/things").then().statusCode(400);
        as("admin").queryParam("option", "size(1000)").get("/api/2/search/things").then().statusCode(400);
        as("admin").queryParam("option", "cursor(garbage)").get("/api/2/search/things").then().statusCode(400);
        as("admin").queryParam("filter", "where(1)").get("/api/2/search/things/count").then().statusCode(400);
    }

    @Test
    void aCursorCannotCarryFilterOperators() {
        // Positive control: a cursor handed out continues the search.
        String handedOut = as("olivia").queryParam("option", "sort(+attributes/rank),size(1)")
                .get("/api/2/search/things").then().statusCode(200).extract().path("cursor");
        as("olivia").queryParam("option", "sort(+attributes/rank),size(1),cursor(" + handedOut + ")")
                .get("/api/2/search/things").then().statusCode(200);
        // The same shape with an operator object as a sort value would have become {rank: {$regex: ...}}.
        for (String forged : java.util.List.of(
                "{\"v\":[{\"$regex\":\"^(a+)+$\"},\"demo:s1\"],\"id\":\"demo:s1\"}",
                "{\"v\":[{\"ok\":{\"$where\":\"sleep(1000)\"}},\"demo:s1\"],\"id\":\"demo:s1\"}",
                "{\"v\":[1],\"id\":\"demo:s1\"}",
                "{\"v\":[1,\"demo:s1\"],\"id\":{\"$gt\":\"\"}}")) {
            String token = java.util.Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(forged.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            as("olivia").queryParam("option", "sort(+attributes/rank),size(1),cursor(" + token + ")")
                    .get("/api/2/search/things").then().statusCode(400).contentType("application/problem+json")
                    .body("type", equalTo("https://doppel.dev/problems/invalid-filter"));
        }
    }
}

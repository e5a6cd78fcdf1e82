package dev.doppel.twin.search;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.doppel.contracts.ThingId;
import dev.doppel.devstack.testing.RealInfrastructure;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.service.TwinService;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One table of RQL filters, Ditto's documented examples among them, run against both evaluators: the
 * store's ({@link RqlToMongo}, through the search API) and the live streams' ({@link RqlMatcher}). Each
 * row names the things it must match, so the two cannot drift apart, nor from Ditto's semantics
 * (a comparison matches only things that have the property; {@code not} matches the others).
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class RqlSemanticsIT {

    private static final List<String> THINGS = List.of("rqlt:kitchen", "rqlt:living", "rqlt:bare");
    private static boolean seeded;

    @Inject
    TwinService twins;

    private static RequestSpecification admin() {
        return given().auth().oauth2(RealInfrastructure.token("admin"));
    }

    @BeforeEach
    void things() {
        if (seeded) {
            return;
        }
        seeded = true;
        admin().contentType("application/json").body("{\"attributes\":{\"location\":\"kitchen\",\"owner\":\"x\","
                + "\"serial\":null,\"key1\":\"known-chars-at-start-abc\",\"n\":5},"
                + "\"features\":{\"lamp\":{\"properties\":{\"on\":true,\"level\":40}}}}")
                .put("/api/2/things/rqlt:kitchen").then().statusCode(201);
        admin().contentType("application/json").body("{\"attributes\":{\"location\":\"living-room\",\"owner\":\"y\","
                + "\"key1\":\"SOME-known-chars-in-between-X\",\"n\":10},"
                + "\"features\":{\"lamp\":{\"properties\":{\"on\":false}}}}")
                .put("/api/2/things/rqlt:living").then().statusCode(201);
        admin().contentType("application/json").body("{\"attributes\":{}}")
                .put("/api/2/things/rqlt:bare").then().statusCode(201);
    }

    /** A filter and the things (of this test's three) it matches. */
    private record Row(String filter, Set<String> matches) {
    }

    private static Row row(String filter, String... names) {
        Set<String> ids = new TreeSet<>();
        for (String n : names) {
            ids.add("rqlt:" + n);
        }
        return new Row(filter, ids);
    }

    private static final List<Row> TABLE = List.of(
            // basic-rql.html's examples
            row("eq(attributes/location,\"kitchen\")", "kitchen"),
            row("eq(/attributes/location,\"kitchen\")", "kitchen"),
            row("eq(attributes/location,'kitchen')", "kitchen"),
            row("ne(attributes/location,\"kitchen\")", "living"),
            row("gt(attributes/n,5)", "living"),
            row("ge(attributes/n,5)", "kitchen", "living"),
            row("lt(attributes/n,10)", "kitchen"),
            row("le(attributes/n,10)", "kitchen", "living"),
            row("in(attributes/location,\"kitchen\",\"living-room\")", "kitchen", "living"),
            row("like(attributes/key1,\"known-chars-at-start*\")", "kitchen"),
            row("like(attributes/key1,\"*known-chars-at-end\")"),
            row("like(attributes/key1,\"*known-chars-in-between*\")", "living"),
            row("like(attributes/key1,\"known-chars-at-start-ab?\")", "kitchen"),
            row("ilike(attributes/key1,\"some-KNOWN-chars*\")", "living"),
            row("like(attributes/key1,\"some-KNOWN-chars*\")"),
            row("exists(features/lamp)", "kitchen", "living"),
            row("exists(features/lamp/properties/level)", "kitchen"),
            row("and(eq(features/lamp/properties/on,true),gt(attributes/n,1))", "kitchen"),
            row("or(eq(attributes/owner,\"y\"),not(exists(attributes/owner)))", "living", "bare"),
            row("not(eq(attributes/location,\"kitchen\"))", "living", "bare"),
            // null and missing, as Ditto tells them apart
            row("eq(attributes/serial,null)", "kitchen"),
            row("ne(attributes/serial,null)"),
            row("exists(attributes/serial)", "kitchen"),
            row("in(attributes/serial,null,\"s-1\")", "kitchen"),
            row("not(eq(attributes/serial,null))", "living", "bare"),
            // the thing's own fields, times cut short, placeholders
            row("eq(thingId,\"rqlt:bare\")", "bare"),
            row("like(thingId,\"rqlt:*i*\")", "kitchen", "living"),
            row("gt(_created,\"2000\")", "kitchen", "living", "bare"),
            row("lt(_created,\"2000-01\")"),
            row("gt(_modified,time:now-1d)", "kitchen", "living", "bare"),
            row("gt(_modified,time:now+1d[d])"),
            row("ge(_revision,1)", "kitchen", "living", "bare"));

    @Test
    void theStoreAndTheLiveMatcherAgreeOnEveryRow() {
        List<Twin> three = new ArrayList<>();
        for (String id : THINGS) {
            three.add(twins.find(ThingId.parse(id)).await().indefinitely().orElseThrow());
        }
        List<String> wrong = new ArrayList<>();
        for (Row r : TABLE) {
            // namespaces: only this test's things (other tests write theirs to the same store)
            Set<String> store = new TreeSet<>(admin().queryParam("filter", r.filter()).queryParam("namespaces", "rqlt")
                    .get("/api/2/search/things").then().statusCode(200).extract().jsonPath()
                    .getList("items.thingId", String.class));
            Set<String> live = new TreeSet<>();
            Rql rql = RqlParser.parse(r.filter());
            for (Twin t : three) {
                if (RqlMatcher.matches(rql, t)) {
                    live.add(t.thingId().toString());
                }
            }
            if (!store.equals(r.matches()) || !live.equals(r.matches())) {
                wrong.add(r.filter() + ": expected " + r.matches() + ", the store found " + store + ", the matcher "
                        + live);
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void searchAndCountTakeAFormAsDittosClientSendsIt() {
        List<String> found = admin().contentType("application/x-www-form-urlencoded")
                .formParam("filter", "exists(features/lamp)").formParam("namespaces", "rqlt")
                .formParam("option", "sort(-attributes/n)").formParam("fields", "thingId")
                .post("/api/2/search/things").then().statusCode(200).extract().jsonPath().getList("items.thingId");
        assertEquals(List.of("rqlt:living", "rqlt:kitchen"), found);
        String count = admin().contentType("application/x-www-form-urlencoded")
                .formParam("filter", "exists(features/lamp)").formParam("namespaces", "rqlt")
                .post("/api/2/search/things/count").then().statusCode(200).extract().asString();
        assertEquals("2", count);
        // Ditto's deprecated paging still reads: the second of the two.
        assertEquals(List.of("rqlt:kitchen"), admin().queryParam("filter", "exists(features/lamp)")
                .queryParam("namespaces", "rqlt").queryParam("option", "sort(-attributes/n),limit(1,1)")
                .get("/api/2/search/things").then().statusCode(200).extract().jsonPath().getList("items.thingId"));
        // A namespace the caller may not see is no way around the tenants: victor (demo only) asking for
        // both finds demo's lamp (the control, in the same answer) and none of rqlt's.
        admin().contentType("application/json").body("{\"features\":{\"lamp\":{\"properties\":{\"on\":true}}}}")
                .put("/api/2/things/demo:rqlt-lamp").then().statusCode(org.hamcrest.Matchers.oneOf(201, 204));
        assertEquals(List.of("demo:rqlt-lamp"), given().auth().oauth2(RealInfrastructure.token("victor"))
                .queryParam("filter", "and(exists(features/lamp),like(thingId,\"*rqlt*\"))")
                .queryParam("namespaces", "demo,rqlt")
                .get("/api/2/search/things").then().statusCode(200).extract().jsonPath().getList("items.thingId"));
        admin().queryParam("namespaces", "not a namespace").get("/api/2/search/things").then().statusCode(400);
    }
}

package dev.doppel.twin.graphql;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The twins as a graph, with real tokens against the real broker and MongoDB stand-in: queries,
 * Relay paging, typed values, history, mutations with their write rules and revision check, and the
 * limits that refuse abusive queries. Subscriptions are in {@link TwinSubscriptionIT}.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class TwinGraphQLIT {

    private static boolean seeded;

    static ValidatableResponse graphql(String user, String query, Map<String, Object> variables) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("query", query);
        body.put("variables", variables == null ? Map.of() : variables);
        return given().auth().oauth2(RealInfrastructure.token(user)).contentType("application/json").body(body)
                .post("/graphql").then().statusCode(200);
    }

    static ValidatableResponse graphql(String user, String query) {
        return graphql(user, query, null);
    }

    private static void put(String id, String body) {
        given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json").body(body)
                .put("/api/2/things/" + id).then().statusCode(201);
    }

    @BeforeEach
    void twins() {
        if (seeded) {
            return;
        }
        seeded = true;
        for (int i = 1; i <= 3; i++) {
            put("demo:gq-" + i, """
                    {"attributes": {"kind": "gq-meter", "floor": %d, "location": {"room": "r%d"}},
                     "features": {"power": {"properties": {"watts": %d, "label": "main", "on": true},
                                            "desiredProperties": {"on": true}}}}""".formatted(i, i, 100 * i));
        }
        put("other:gq-4", """
                {"attributes": {"kind": "gq-meter", "floor": 4}, "features": {}}""");
    }

    @Test
    void aTwinWithItsFeaturesTypedValuesAndDelta() {
        graphql("olivia", """
                { twin(id: "demo:gq-2") { thingId revision attributes
                    features { id properties }
                    watts: property(feature: "power", path: "watts") { path number text value time }
                    label: property(feature: "power", path: "label") { number text }
                    on: property(feature: "power", path: "on") { flag }
                    missing: property(feature: "power", path: "nope") { value }
                    power: feature(id: "power") { delta } } }""")
                .body("errors", nullValue())
                .body("data.twin.thingId", equalTo("demo:gq-2"))
                .body("data.twin.attributes.location.room", equalTo("r2"))
                .body("data.twin.features[0].properties.watts", equalTo(200))
                .body("data.twin.watts.number", equalTo(200.0f))
                .body("data.twin.watts.text", nullValue())
                .body("data.twin.watts.value", equalTo(200))
                .body("data.twin.watts.path", equalTo("features/power/properties/watts"))
                .body("data.twin.label.text", equalTo("main"))
                .body("data.twin.label.number", nullValue())
                .body("data.twin.on.flag", equalTo(true))
                .body("data.twin.missing", nullValue())
                .body("data.twin.power.delta", equalTo(Map.of()));
    }

    @Test
    void anotherTenantsTwinIsNullLikeAMissingOneAndABadIdIsAProblem() {
        graphql("olivia", "{ twin(id: \"other:gq-4\") { thingId } }").body("data.twin", nullValue())
                .body("errors", nullValue());
        graphql("admin", "{ twin(id: \"other:gq-4\") { thingId } }").body("data.twin.thingId", equalTo("other:gq-4"));
        graphql("olivia", "{ twin(id: \"demo:no-such\") { thingId } }").body("data.twin", nullValue());
        graphql("olivia", "{ twin(id: \"no colon\") { thingId } }")
                .body("errors[0].message", containsString("no colon"))
                .body("errors[0].extensions.problem.type", equalTo("https://doppel.dev/problems/invalid-thing-id"))
                .body("errors[0].extensions.problem.status", equalTo(400));
    }

    @Test
    void twinsPageAsARelayConnectionWithTotalCount() {
        String query = """
                query($after: String) { twins(filter: "eq(attributes/kind,\\"gq-meter\\")", sort: "-attributes/floor",
                    first: 2, after: $after) {
                  totalCount edges { cursor node { thingId } } pageInfo { hasNextPage endCursor } } }""";
        // olivia sees tenant demo only: three of the four meters
        ValidatableResponse first = graphql("olivia", query).body("errors", nullValue())
                .body("data.twins.totalCount", equalTo(3))
                .body("data.twins.edges.node.thingId", equalTo(java.util.List.of("demo:gq-3", "demo:gq-2")))
                .body("data.twins.pageInfo.hasNextPage", equalTo(true));
        String end = first.extract().path("data.twins.pageInfo.endCursor");
        graphql("olivia", query, Map.of("after", end))
                .body("data.twins.edges.node.thingId", equalTo(java.util.List.of("demo:gq-1")))
                .body("data.twins.pageInfo.hasNextPage", equalTo(false));
        // each edge's cursor continues right after its node
        String afterFirst = first.extract().path("data.twins.edges[0].cursor");
        graphql("olivia", query, Map.of("after", afterFirst))
                .body("data.twins.edges[0].node.thingId", equalTo("demo:gq-2"));
        graphql("admin", query).body("data.twins.totalCount", equalTo(4));
    }

    @Test
    void aBadFilterNamesItsPosition() {
        graphql("olivia", "{ twins(filter: \"eq(attributes/kind\") { totalCount } }")
                .body("errors[0].message", containsString("position"))
                .body("errors[0].extensions.problem.type", equalTo("https://doppel.dev/problems/invalid-filter"));
        graphql("olivia", "{ twins(first: 0) { totalCount } }")
                .body("errors[0].extensions.problem.status", equalTo(400));
    }

    @Test
    void operatorsSetDesiredStateAndTheDeltaShowsIt() {
        graphql("olivia", """
                mutation { putDesiredProperties(thingId: "demo:gq-1", feature: "power", properties: {on: false, watts: 50}) {
                  revision feature(id: "power") { desiredProperties delta } delta } }""")
                .body("errors", nullValue())
                .body("data.putDesiredProperties.feature.desiredProperties.watts", equalTo(50))
                .body("data.putDesiredProperties.feature.delta", equalTo(Map.of("on", false, "watts", 50)))
                .body("data.putDesiredProperties.delta.power.on", equalTo(false));
        graphql("olivia", """
                mutation { mergeDesiredProperties(thingId: "demo:gq-1", feature: "power", properties: {on: true}) {
                  d: property(feature: "power", path: "on", desired: true) { flag time }
                  feature(id: "power") { desiredProperties } delta } }""")
                .body("errors", nullValue())
                .body("data.mergeDesiredProperties.d.flag", equalTo(true))
                .body("data.mergeDesiredProperties.d.time", notNullValue())
                .body("data.mergeDesiredProperties.feature.desiredProperties", equalTo(Map.of("on", true, "watts", 50)))
                .body("data.mergeDesiredProperties.delta.power", equalTo(Map.of("watts", 50)));
        // the REST API sees the same twin
        given().auth().oauth2(RealInfrastructure.token("olivia")).get("/api/2/things/demo:gq-1/features/power/delta")
                .then().statusCode(200).body("desiredProperties", equalTo(Map.of("watts", 50)));
    }

    @Test
    void aStaleExpectedRevisionIsRefusedAndChangesNothing() {
        int revision = graphql("admin", "{ twin(id: \"demo:gq-3\") { revision } }").extract().path("data.twin.revision");
        String mutation = """
                mutation($rev: BigInteger) { putAttributes(thingId: "demo:gq-3", attributes: {kind: "gq-meter", floor: 33},
                  expectedRevision: $rev) { revision attributes } }""";
        graphql("admin", mutation, Map.of("rev", revision - 1))
                .body("data.putAttributes", nullValue())
                .body("errors[0].extensions.problem.type", equalTo("https://doppel.dev/problems/precondition-failed"))
                .body("errors[0].extensions.problem.status", equalTo(412));
        graphql("admin", "{ twin(id: \"demo:gq-3\") { revision attributes } }")
                .body("data.twin.revision", equalTo(revision)).body("data.twin.attributes.floor", equalTo(3));
        graphql("admin", mutation, Map.of("rev", revision))
                .body("errors", nullValue())
                .body("data.putAttributes.revision", equalTo(revision + 1))
                .body("data.putAttributes.attributes.floor", equalTo(33));
        graphql("admin", """
                mutation { putAttributes(thingId: "demo:gq-3", attributes: {kind: "gq-meter", floor: 3}) { revision } }""")
                .body("errors", nullValue());
    }

    @Test
    void writeRulesFollowTheRoles() {
        graphql("victor", """
                mutation { mergeDesiredProperties(thingId: "demo:gq-2", feature: "power", properties: {on: false}) { revision } }""")
                .body("errors[0].extensions.problem.status", equalTo(403));
        graphql("olivia", """
                mutation { putAttributes(thingId: "demo:gq-2", attributes: {kind: "hijacked"}) { revision } }""")
                .body("errors[0].extensions.problem.status", equalTo(403));
        graphql("mallory", """
                mutation { mergeDesiredProperties(thingId: "demo:gq-2", feature: "power", properties: {on: false}) { revision } }""")
                .body("errors[0].extensions.problem.status", equalTo(404));
        graphql("admin", "{ twin(id: \"demo:gq-2\") { attributes feature(id: \"power\") { desiredProperties } } }")
                .body("data.twin.attributes.kind", equalTo("gq-meter"))
                .body("data.twin.feature.desiredProperties", equalTo(Map.of("on", true)));
        given().contentType("application/json").body(Map.of("query", "{ twin(id: \"demo:gq-2\") { thingId } }"))
                .post("/graphql").then().statusCode(401);
    }

    @Test
    void historyAndTheTwinAsItWas() {
        put("demo:gq-hist", "{\"attributes\": {\"v\": 1}}");
        for (int v = 2; v <= 3; v++) {
            given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json").body(v)
                    .put("/api/2/things/demo:gq-hist/attributes/v").then().statusCode(204);
        }
        graphql("olivia", """
                { twin(id: "demo:gq-hist") { history(path: "attributes/v") { path value revision time } }
                  first: twinAt(id: "demo:gq-hist", revision: 1) }""")
                .body("errors", nullValue())
                .body("data.twin.history", hasSize(2))
                .body("data.twin.history.value", equalTo(java.util.List.of(2, 3)))
                .body("data.twin.history.revision", equalTo(java.util.List.of(2, 3)))
                .body("data.first.attributes.v", equalTo(1));
    }

    @Test
    void rebuildsBeyondWhatRunsAtOnceAreToldToRetry() {
        put("demo:gq-rebuilt", "{\"attributes\": {\"v\": 1}}");
        // Two rebuilds run at once (the default); a query with six asks for four more than that.
        StringBuilder query = new StringBuilder("{");
        for (int i = 0; i < 6; i++) {
            query.append(" r").append(i).append(": twinAt(id: \"demo:gq-rebuilt\", revision: 1)");
        }
        query.append(" }");
        var answer = graphql("olivia", query.toString())
                .body("errors.extensions.problem.type", hasItem("https://doppel.dev/problems/too-many-rebuilds"))
                .body("errors.extensions.problem.status", everyItem(equalTo(429)))
                .extract().jsonPath();
        // Those that ran gave the twin as it was; the others got the problem, not a wrong answer.
        int served = 0;
        for (int i = 0; i < 6; i++) {
            if (answer.get("data.r" + i) != null) {
                served++;
                org.junit.jupiter.api.Assertions.assertEquals(1, (Integer) answer.get("data.r" + i + ".attributes.v"));
            }
        }
        org.junit.jupiter.api.Assertions.assertTrue(served >= 1, "at least one rebuild ran: " + answer.prettify());
        // Once they are done, the next query is served.
        graphql("olivia", "{ twinAt(id: \"demo:gq-rebuilt\", revision: 1) }").body("errors", nullValue())
                .body("data.twinAt.attributes.v", equalTo(1));
    }

    @Test
    void abusiveQueriesAreRefusedBeforeTheyRun() {
        StringBuilder deep = new StringBuilder("{ __type(name: \"Twin\") { fields { type ");
        for (int i = 0; i < 16; i++) {
            deep.append("{ ofType ");
        }
        deep.append("{ name }").append(" }".repeat(16)).append(" } } }");
        graphql("olivia", deep.toString()).body("data", nullValue())
                .body("errors[0].message", containsString("depth"));
        StringBuilder wide = new StringBuilder("{");
        for (int i = 0; i < 320; i++) {
            wide.append(" t").append(i).append(": twin(id: \"demo:gq-1\") { thingId }");
        }
        wide.append(" }");
        graphql("olivia", wide.toString()).body("data", nullValue())
                .body("errors[0].message", containsString("complexity"));
        // An ordinary deep read stays well inside both limits.
        graphql("olivia", "{ twins(first: 50) { totalCount edges { node { thingId features { id properties delta } } } } }")
                .body("errors", nullValue());
    }
}

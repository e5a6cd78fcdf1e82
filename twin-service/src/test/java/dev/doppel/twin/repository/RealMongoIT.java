package dev.doppel.twin.repository;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import dev.doppel.devstack.testing.RealInfrastructure;
import dev.doppel.twin.testing.StoreCommands;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Locale;
import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * What the MongoDB stand-in cannot show, against a real MongoDB (run with {@code DOPPEL_TEST_MONGODB_URL};
 * the default suite leaves this class out, docs/development.md "Against a real MongoDB"): the
 * searches the service sends are served by its indexes ({@code explain}), and the history's TTL index
 * is declared for the longest retention.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class RealMongoIT {

    @Inject
    StoreCommands store;

    private static MongoClient client() {
        String url = RealInfrastructure.realMongoUrl();
        assertNotNull(url, "this test needs a real MongoDB: DOPPEL_TEST_MONGODB_URL=mongodb://host:27017/?replicaSet=rs0");
        return MongoClients.create(url);
    }

    @Test
    void theseTestsRunAgainstARealMongoDb() {
        try (MongoClient client = client()) {
            // The stand-in does not answer 'hello' (the driver falls back to isMaster); MongoDB 4.4.2+ does.
            Document hello = client.getDatabase("admin").runCommand(new Document("hello", 1));
            assertEquals(1.0, ((Number) hello.get("ok")).doubleValue(), hello.toJson());
        }
    }

    @Test
    void aTenantsSearchIsServedByAnIndex() {
        for (int i = 0; i < 20; i++) {
            given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                    .body(String.format(Locale.ROOT, "{\"features\":{\"telemetry\":{\"properties\":{\"temperature\":%d}}}}",
                            10 + i))
                    .put("/api/2/things/demo:real-" + i).then().statusCode(201);
        }
        store.clear();
        List<String> hot = given().auth().oauth2(RealInfrastructure.token("olivia"))
                .queryParam("filter", "gt(features/telemetry/properties/temperature,25)")
                .get("/api/2/search/things").then().statusCode(200).extract().jsonPath().getList("items.thingId");
        assertTrue(hot.contains("demo:real-19"), hot.toString());
        BsonDocument find = store.on("twins").stream().filter(q -> q.containsKey("find") && q.containsKey("sort"))
                .findFirst().orElseThrow(() -> new AssertionError("no search reached the store"));
        try (MongoClient client = client()) {
            MongoDatabase db = client.getDatabase(find.getString("$db").getValue());
            BsonDocument query = new BsonDocument();
            find.forEach(query::put); // the driver's copy of the command is immutable
            for (String session : List.of("$db", "lsid", "$clusterTime", "txnNumber", "$readPreference")) {
                query.remove(session);
            }
            String plan = db.runCommand(new Document("explain", query).append("verbosity", "queryPlanner")).toJson();
            assertTrue(plan.contains("IXSCAN"), "the search scans no index: " + plan);
            assertFalse(plan.contains("COLLSCAN"), "the search scans the collection: " + plan);
        }
    }

    @Test
    void theHistoryExpiresByATtlIndex() {
        try (MongoClient client = client()) {
            Document retention = client.getDatabase("doppel-twins").getCollection("twin_history").listIndexes()
                    .into(new java.util.ArrayList<>()).stream().filter(i -> "retention".equals(i.getString("name")))
                    .findFirst().orElseThrow(() -> new AssertionError("no TTL index on twin_history"));
            assertTrue(((Number) retention.get("expireAfterSeconds")).longValue() > 0, retention.toJson());
        }
    }
}

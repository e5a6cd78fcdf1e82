package dev.doppel.connectivity.registry;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.bridge.BridgeDefinitions;
import dev.doppel.connectivity.config.RegistryConfig;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.bson.Document;
import org.bson.types.Binary;
import org.junit.jupiter.api.Test;

/**
 * What a copy of connectivity's database gives away: no pre-shared key and no broker password in
 * any form, whether stored through the API or left in the clear by an older version (sealed at
 * start). The DTLS handshakes of {@code CoapAdapterIT} and the bridge logins of
 * {@code BrokerBridgeIT} show the sealed secrets still work; here their stored form is read.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class SecretsAtRestIT {

    @Inject
    ReactiveMongoClient mongo;

    @Inject
    RegistryConfig config;

    @Inject
    DeviceRegistry registry;

    @Inject
    BridgeDefinitions bridges;

    private static RequestSpecification admin() {
        return given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json");
    }

    private ReactiveMongoCollection<Document> collection(String name) {
        return mongo.getDatabase(config.database()).getCollection(name);
    }

    private Document stored(String collection, String id) {
        return collection(collection).find(new Document("_id", id)).collect().first().await().atMost(Duration.ofSeconds(10));
    }

    /** Whether the secret shows in the document in any of the forms it could be written in. */
    private static boolean shows(Document doc, byte[] secret) {
        String json = doc.toJson();
        return json.contains(Base64.getEncoder().encodeToString(secret)) || json.contains(HexFormat.of().formatHex(secret))
                || json.contains(new String(secret, StandardCharsets.ISO_8859_1));
    }

    @Test
    void aPreSharedKeyGivenOverTheApiIsStoredSealedAndStillOpens() {
        String device = "sealed-" + UUID.randomUUID().toString().substring(0, 8);
        byte[] key = ("psk-of-" + device).getBytes(StandardCharsets.UTF_8);
        admin().body("{\"enabled\":true}").put("/api/registry/devices/demo/" + device).then().statusCode(lessThan(300));
        admin().body("[{\"type\":\"psk\",\"auth-id\":\"" + device + "\",\"secrets\":[{\"key\":\""
                + Base64.getEncoder().encodeToString(key) + "\"}]}]")
                .put("/api/registry/credentials/demo/" + device).then().statusCode(204);

        Document credential = stored("credentials", "demo/psk/" + device);
        assertTrue(credential != null, "no credential stored under demo/psk/" + device);
        assertFalse(shows(credential, key), "the key is readable in the store: " + credential.toJson());
        assertTrue(credential.getList("secrets", Document.class).get(0).getString("sealed").startsWith("v1:"),
                credential.toJson());
        assertArrayEquals(key, registry.findPsk("demo", device).await().atMost(Duration.ofSeconds(10))
                .orElseThrow().key());
    }

    @Test
    void secretsAnOlderVersionStoredInTheClearAreSealedAtStartAndStillOpen() {
        String device = "legacy-" + UUID.randomUUID().toString().substring(0, 8);
        String id = "demo/psk/" + device;
        byte[] key = ("legacy-key-of-" + device).getBytes(StandardCharsets.UTF_8);
        collection("credentials").insertOne(new Document("_id", id).append("tenant", "demo").append("deviceId", device)
                .append("type", "psk").append("authId", device)
                .append("secrets", List.of(new Document("key", new Binary(key))))).await().atMost(Duration.ofSeconds(10));
        String bridge = "demo/legacy-" + device;
        String password = "legacy-password-" + device;
        collection("bridges").insertOne(new Document("_id", bridge).append("tenant", "demo")
                .append("name", "legacy-" + device).append("definition", "{\"uri\":\"tcp://127.0.0.1:1\",\"username\":"
                        + "\"u\",\"password\":\"" + password + "\",\"enabled\":false}"))
                .await().atMost(Duration.ofSeconds(10));
        // The positive control: in the clear, and read as such.
        assertTrue(shows(stored("credentials", id), key));
        assertArrayEquals(key, registry.findPsk("demo", device).await().atMost(Duration.ofSeconds(10)).orElseThrow().key());

        // What the service does at start.
        assertTrue(registry.sealStoredKeys().await().atMost(Duration.ofSeconds(30)) >= 1);
        assertTrue(bridges.sealStoredPasswords().await().atMost(Duration.ofSeconds(30)) >= 1);

        assertFalse(shows(stored("credentials", id), key), stored("credentials", id).toJson());
        assertFalse(stored("bridges", bridge).toJson().contains(password), stored("bridges", bridge).toJson());
        assertArrayEquals(key, registry.findPsk("demo", device).await().atMost(Duration.ofSeconds(10)).orElseThrow().key());
        assertEquals(password, bridges.find("demo", "legacy-" + device).await().atMost(Duration.ofSeconds(10))
                .orElseThrow().password());
        // Nothing left to seal: a second start changes nothing.
        assertEquals(0, registry.sealStoredKeys().await().atMost(Duration.ofSeconds(30)));
        assertEquals(0, bridges.sealStoredPasswords().await().atMost(Duration.ofSeconds(30)));
    }

    @Test
    void aBrokerPasswordIsStoredSealedAndNeverReadBack() {
        String name = "sealed-" + UUID.randomUUID().toString().substring(0, 8);
        String password = "broker-password-" + name;
        admin().body("{\"uri\":\"tcp://127.0.0.1:1\",\"username\":\"u\",\"password\":\"" + password
                + "\",\"enabled\":false,\"subscriptions\":[{\"filter\":\"x/+\",\"device\":\"{1}\"}]}")
                .put("/api/registry/connections/demo/" + name).then().statusCode(lessThan(300));
        admin().get("/api/registry/connections/demo/" + name).then().statusCode(200).body("password", equalTo("***"));
        Document doc = stored("bridges", "demo/" + name);
        assertFalse(doc.toJson().contains(password), doc.toJson());
        assertEquals(password, bridges.find("demo", name).await().atMost(Duration.ofSeconds(10)).orElseThrow().password());
    }

    @Test
    void aSealedSecretCopiedIntoAnotherRecordDoesNotOpenThere() {
        String a = "copy-a-" + UUID.randomUUID().toString().substring(0, 8);
        String b = "copy-b-" + UUID.randomUUID().toString().substring(0, 8);
        for (String device : List.of(a, b)) {
            admin().body("{\"enabled\":true}").put("/api/registry/devices/demo/" + device).then().statusCode(lessThan(300));
            admin().body("[{\"type\":\"psk\",\"auth-id\":\"" + device + "\",\"secrets\":[{\"key\":\""
                    + Base64.getEncoder().encodeToString(("key-of-" + device).getBytes(StandardCharsets.UTF_8)) + "\"}]}]")
                    .put("/api/registry/credentials/demo/" + device).then().statusCode(204);
        }
        assertArrayEquals(("key-of-" + b).getBytes(StandardCharsets.UTF_8),
                registry.findPsk("demo", b).await().atMost(Duration.ofSeconds(10)).orElseThrow().key());
        // Someone who can write the database but holds no key gives b the sealed key of a.
        Object sealedOfA = stored("credentials", "demo/psk/" + a).get("secrets");
        collection("credentials").updateOne(new Document("_id", "demo/psk/" + b),
                new Document("$set", new Document("secrets", sealedOfA))).await().atMost(Duration.ofSeconds(10));
        assertThrows(IllegalStateException.class, () -> registry.findPsk("demo", b).await().atMost(Duration.ofSeconds(10)));
    }
}

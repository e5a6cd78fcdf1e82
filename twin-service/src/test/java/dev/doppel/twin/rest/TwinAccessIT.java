package dev.doppel.twin.rest;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.KeycloakServer;
import dev.doppel.devstack.Tokens;
import dev.doppel.devstack.testing.AccessFixtures;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who may read twins, with real tokens from a real Keycloak: one assertion per role and per tenant
 * boundary, and the tokens that must never pass.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class TwinAccessIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static boolean seeded;

    @BeforeEach
    void twinsInTwoTenants() {
        if (seeded) {
            return;
        }
        seeded = true;
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            for (String id : new String[] {"demo:acc-1", "other:acc-2"}) {
                TelemetryReceived r = TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(id),
                        "telemetry", Map.of("telemetry", Map.of("temperature", 20.0)), null, Instant.now(), "mqtt");
                kafka.sendEvent(Topics.DEVICE_TELEMETRY, id, r.type(), "/test", r);
            }
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            read("admin", "demo:acc-1", 200);
            read("admin", "other:acc-2", 200);
        });
    }

    private static void read(String user, String thingId, int status) {
        given().auth().oauth2(RealInfrastructure.token(user)).get("/api/2/things/" + thingId).then().statusCode(status);
    }

    @Test
    void adminReadsEveryTenant() {
        read("admin", "demo:acc-1", 200);
        read("admin", "other:acc-2", 200);
    }

    @Test
    void operatorAndViewerOfDemoReadDemoOnly() {
        read("olivia", "demo:acc-1", 200);
        read("victor", "demo:acc-1", 200);
        read("olivia", "other:acc-2", 404);
        read("victor", "other:acc-2", 404);
    }

    @Test
    void anotherTenantsTwinReadsExactlyLikeAMissingOne() {
        String foreign = given().auth().oauth2(RealInfrastructure.token("mallory")).get("/api/2/things/demo:acc-1")
                .then().statusCode(404).contentType("application/problem+json").extract().path("type");
        String missing = given().auth().oauth2(RealInfrastructure.token("mallory")).get("/api/2/things/other:nope")
                .then().statusCode(404).extract().path("type");
        org.junit.jupiter.api.Assertions.assertEquals(missing, foreign);
        read("mallory", "other:acc-2", 200);
    }

    @Test
    void aRoleWithoutReadAccessToTwinsIsForbidden() {
        given().auth().oauth2(AccessFixtures.deviceAdmin()).get("/api/2/things/demo:acc-1").then().statusCode(403);
    }

    @Test
    void rolesAreCheckedInTheServiceForEveryKindOfCall() {
        // Without a read role: REST, search, SSE and GraphQL all refuse.
        String dora = AccessFixtures.deviceAdmin();
        given().auth().oauth2(dora).get("/api/2/search/things").then().statusCode(403);
        given().auth().oauth2(dora).accept("text/event-stream").get("/api/2/things").then().statusCode(403);
        given().auth().oauth2(dora).contentType("application/json").body("{\"query\":\"{ twin(id: \\\"demo:acc-1\\\") { thingId } }\"}")
                .post("/graphql").then().statusCode(200).body("errors[0].extensions.problem.status", equalTo(403))
                .body("data.twin", org.hamcrest.Matchers.nullValue());
        // A viewer reads but writes nothing; an operator writes desired state.
        String desired = "/api/2/things/demo:acc-1/features/telemetry/desiredProperties/target";
        given().auth().oauth2(RealInfrastructure.token("victor")).contentType("application/json").body("21")
                .put(desired).then().statusCode(403);
        given().auth().oauth2(RealInfrastructure.token("olivia")).contentType("application/json").body("21")
                .put(desired).then().statusCode(org.hamcrest.Matchers.oneOf(201, 204));
    }

    @Test
    void steadyApiTrafficMakesNoCallToKeycloak() throws Exception {
        KeycloakServer keycloak = RealInfrastructure.keycloak();
        String viewer = RealInfrastructure.token("victor");
        String operator = RealInfrastructure.token("olivia");
        String dora = AccessFixtures.deviceAdmin();
        read("victor", "demo:acc-1", 200); // the realm's keys are fetched once, at the first token
        long before = keycloak.realmRequests();
        // Positive control: Keycloak counts a call made to it (a token issued).
        new Tokens(keycloak.issuer()).password("victor", "victor");
        long counted = keycloak.realmRequests();
        Assertions.assertTrue(counted > before, "Keycloak's request count should grow with a token request");

        String graphql = "{\"query\":\"{ twin(id: \\\"demo:acc-1\\\") { thingId } }\"}";
        for (int i = 0; i < 30; i++) {
            given().auth().oauth2(viewer).get("/api/2/things/demo:acc-" + (i % 3 + 1)).then()
                    .statusCode(org.hamcrest.Matchers.oneOf(200, 404));
            given().auth().oauth2(viewer).get("/api/2/search/things?filter=eq(thingId,\"demo:acc-1\")").then()
                    .statusCode(200);
            given().auth().oauth2(viewer).contentType("application/json").body(graphql).post("/graphql").then()
                    .statusCode(200).body("data.twin.thingId", equalTo("demo:acc-1"));
            given().auth().oauth2(operator).contentType("application/json").body(String.valueOf(i))
                    .put("/api/2/things/demo:acc-1/features/telemetry/desiredProperties/setpoint").then()
                    .statusCode(org.hamcrest.Matchers.oneOf(201, 204));
            given().auth().oauth2(dora).get("/api/2/things/demo:acc-1").then().statusCode(403);
            given().auth().oauth2("not.a.token").get("/api/2/things/demo:acc-1").then().statusCode(401);
        }
        Assertions.assertEquals(counted, keycloak.realmRequests(),
                "180 API requests should have made no call to Keycloak");
    }

    @Test
    void aTokenAcceptedWhileValidIsRefusedOnceItHasExpired() throws InterruptedException {
        // Verified tokens are remembered (VerifiedTokens): never past their expiry.
        String token = AccessFixtures.shortLived();
        given().auth().oauth2(token).get("/api/2/things/demo:acc-1").then().statusCode(200);
        given().auth().oauth2(token).get("/api/2/things/demo:acc-1").then().statusCode(200);
        Thread.sleep(4000);
        given().auth().oauth2(token).get("/api/2/things/demo:acc-1").then().statusCode(401);
    }

    @Test
    void noTokenOrABadTokenIs401() {
        given().get("/api/2/things/demo:acc-1").then().statusCode(401);
        given().auth().oauth2("not.a.token").get("/api/2/things/demo:acc-1").then().statusCode(401);
        given().auth().oauth2(AccessFixtures.otherRealm()).get("/api/2/things/demo:acc-1").then().statusCode(401);
        given().auth().oauth2(AccessFixtures.otherAudience()).get("/api/2/things/demo:acc-1").then().statusCode(401);
    }

    @Test
    void anExpiredTokenIs401() throws InterruptedException {
        String token = AccessFixtures.expired();
        given().auth().oauth2(token).get("/api/2/things/demo:acc-1").then().statusCode(401);
    }

    @Test
    void probesAndMetricsNeedNoToken() {
        given().get(management + "health/live").then().statusCode(200);
        given().get(management + "health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get(management + "metrics").then().statusCode(200);
    }
}

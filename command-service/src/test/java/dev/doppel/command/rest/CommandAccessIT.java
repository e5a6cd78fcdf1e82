package dev.doppel.command.rest;

import static io.restassured.RestAssured.given;

import dev.doppel.command.RegisteredDevices;
import dev.doppel.devstack.Tokens;
import dev.doppel.devstack.testing.AccessFixtures;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Who may send and read commands: one assertion per role and per tenant boundary, real tokens. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class CommandAccessIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    @BeforeAll
    static void registerDevices() {
        RegisteredDevices.register("demo:acc", "other:acc");
    }

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user));
    }

    private static String send(RequestSpecification who, String thingId, int status) {
        return who.body("x").post("/api/2/things/" + thingId + "/inbox/messages/switch?timeout=0")
                .then().statusCode(status).extract().header(InboxResource.COMMAND_ID_HEADER);
    }

    @Test
    void operatorsAndAdminsSendToTheirTenantsOnly() {
        send(as("admin"), "demo:acc", 202);
        send(as("admin"), "other:acc", 202);
        send(as("olivia"), "demo:acc", 202);
        send(as("olivia"), "other:acc", 404);
        send(as("mallory"), "other:acc", 202);
        send(as("mallory"), "demo:acc", 404);
    }

    @Test
    void viewersAndDeviceAdminsMayNotSendCommands() {
        send(as("victor"), "demo:acc", 403);
        send(given().auth().oauth2(AccessFixtures.deviceAdmin()), "demo:acc", 403);
    }

    @Test
    void commandsReadWithinTheTenantAndAsMissingOutsideIt() {
        String id = send(as("olivia"), "demo:acc", 202);
        as("admin").get("/api/commands/" + id).then().statusCode(200);
        as("olivia").get("/api/commands/" + id).then().statusCode(200);
        as("victor").get("/api/commands/" + id).then().statusCode(200);
        as("mallory").get("/api/commands/" + id).then().statusCode(404);
        given().auth().oauth2(AccessFixtures.deviceAdmin()).get("/api/commands/" + id).then().statusCode(403);
    }

    @Test
    void aTokenIsVerifiedOnceAndThenRemembered() {
        // A token of its own, not used before in this run.
        String token = new Tokens(RealInfrastructure.keycloak().issuer()).password("olivia", "olivia");
        double before = tokens("remembered");
        for (int i = 0; i < 5; i++) {
            given().auth().oauth2(token).get("/api/commands/any").then().statusCode(404);
        }
        // The first request verifies the token; the other four find it remembered (VerifiedTokens).
        Assertions.assertEquals(4, tokens("remembered") - before, 0.1);
    }

    private double tokens(String outcome) {
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("doppel_security_tokens_total{outcome=\"" + outcome + "\"}"))
                .mapToDouble(l -> Double.parseDouble(l.split(" ")[1])).sum();
    }

    @Test
    void withoutAValidTokenNothingHappens() {
        given().body("x").post("/api/2/things/demo:acc/inbox/messages/switch?timeout=0").then().statusCode(401);
        given().get("/api/commands/any").then().statusCode(401);
        given().auth().oauth2(AccessFixtures.otherRealm()).body("x")
                .post("/api/2/things/demo:acc/inbox/messages/switch?timeout=0").then().statusCode(401);
        given().get(management + "health/ready").then().statusCode(200);
    }
}

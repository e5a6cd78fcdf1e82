package dev.doppel.connectivity.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.oneOf;

import dev.doppel.devstack.testing.AccessFixtures;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;

/** Who may manage devices and credentials: device admins and admins, each within their tenants. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class RegistryAccessIT {

    private static final String CREDENTIALS =
            "[{\"type\":\"hashed-password\",\"auth-id\":\"acc\",\"secrets\":[{\"pwd-plain\":\"long-enough\"}]}]";

    private static RequestSpecification as(String user) {
        return given().auth().oauth2(RealInfrastructure.token(user));
    }

    private static RequestSpecification dora() {
        return given().auth().oauth2(AccessFixtures.deviceAdmin());
    }

    @Test
    void deviceAdminManagesDevicesOfItsTenant() {
        dora().contentType("application/json").body("{}").put("/api/registry/devices/demo/acc-d")
                .then().statusCode(oneOf(201, 204));
        dora().contentType("application/json").body(CREDENTIALS).put("/api/registry/credentials/demo/acc-d")
                .then().statusCode(204);
        dora().get("/api/registry/devices/demo/acc-d").then().statusCode(200);
        dora().get("/api/registry/credentials/demo/acc-d").then().statusCode(200);
        dora().delete("/api/registry/devices/demo/acc-d").then().statusCode(204);
    }

    @Test
    void anotherTenantsDevicesReadAsMissingEvenForADeviceAdmin() {
        as("admin").contentType("application/json").body("{}").put("/api/registry/devices/other/acc-o")
                .then().statusCode(oneOf(201, 204));
        dora().get("/api/registry/devices/other/acc-o").then().statusCode(404);
        dora().contentType("application/json").body("{}").put("/api/registry/devices/other/acc-x").then().statusCode(404);
        dora().delete("/api/registry/devices/other/acc-o").then().statusCode(404);
        as("admin").get("/api/registry/devices/other/acc-o").then().statusCode(200);
    }

    @Test
    void onlyAdminsEnableOrDisableTenantsAndDeviceAdminsSeeOnlyTheirOwn() {
        as("admin").contentType("application/json").body("{\"enabled\":true}").put("/api/registry/tenants/demo")
                .then().statusCode(204);
        dora().contentType("application/json").body("{\"enabled\":false}").put("/api/registry/tenants/demo")
                .then().statusCode(403);
        dora().get("/api/registry/tenants/demo").then().statusCode(200);
        dora().get("/api/registry/tenants/other").then().statusCode(404);
        as("olivia").get("/api/registry/tenants/demo").then().statusCode(403);
        given().get("/api/registry/tenants/demo").then().statusCode(401);
    }

    @Test
    void operatorsViewersAndOutsidersMayNotTouchTheRegistry() {
        for (String user : new String[] {"olivia", "victor", "mallory"}) {
            as(user).get("/api/registry/devices/demo/sensor-x").then().statusCode(403);
            as(user).contentType("application/json").body("{}").put("/api/registry/devices/demo/acc-e")
                    .then().statusCode(403);
            as(user).contentType("application/json").body(CREDENTIALS).put("/api/registry/credentials/demo/acc-e")
                    .then().statusCode(403);
        }
        given().get("/api/registry/devices/demo/sensor-x").then().statusCode(401);
        given().auth().oauth2(AccessFixtures.otherAudience()).get("/api/registry/devices/demo/sensor-x")
                .then().statusCode(401);
    }

    @Test
    void listsADeviceAdminSendsAreBounded() {
        dora().contentType("application/json").body("{\"via\":[\"gw-1\"]}").put("/api/registry/devices/demo/acc-b")
                .then().statusCode(oneOf(201, 204));
        String gateways = java.util.stream.IntStream.range(0, RegistryResource.MAX_VIA + 1).mapToObj(i -> "\"gw-" + i + "\"")
                .collect(java.util.stream.Collectors.joining(",", "[", "]"));
        dora().contentType("application/json").body("{\"via\":" + gateways + "}").put("/api/registry/devices/demo/acc-b")
                .then().statusCode(400).contentType("application/problem+json");
        dora().get("/api/registry/devices/demo/acc-b").then().statusCode(200)
                .body("via", org.hamcrest.Matchers.equalTo(java.util.List.of("gw-1")));
        String one = "{\"type\":\"hashed-password\",\"auth-id\":\"acc-b-%d\",\"secrets\":[{\"pwd-plain\":\"long-enough\"}]}";
        String many = java.util.stream.IntStream.range(0, RegistryResource.MAX_CREDENTIALS + 1).mapToObj(one::formatted)
                .collect(java.util.stream.Collectors.joining(",", "[", "]"));
        dora().contentType("application/json").body(many).put("/api/registry/credentials/demo/acc-b")
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", org.hamcrest.Matchers.containsString("at most " + RegistryResource.MAX_CREDENTIALS));
        dora().contentType("application/json").body(CREDENTIALS).put("/api/registry/credentials/demo/acc-b")
                .then().statusCode(204);
        dora().delete("/api/registry/devices/demo/acc-b").then().statusCode(204);
    }
}

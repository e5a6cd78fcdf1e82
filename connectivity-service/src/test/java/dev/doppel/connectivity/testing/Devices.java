package dev.doppel.connectivity.testing;

import static io.restassured.RestAssured.given;

import dev.doppel.devstack.testing.RealInfrastructure;

/** Devices registered for a test through the registry API, as an admin would. */
public final class Devices {

    private Devices() {
    }

    /** Registers (or updates) {@code tenant/device}, enabled or not, with a password for auth-id {@code device}. */
    public static void withPassword(String tenant, String device, String password, boolean enabled) {
        given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                .body("{\"enabled\":" + enabled + "}").put("/api/registry/devices/" + tenant + "/" + device).then()
                .statusCode(org.hamcrest.Matchers.oneOf(201, 204));
        given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json")
                .body("[{\"type\":\"hashed-password\",\"auth-id\":\"" + device + "\",\"secrets\":[{\"pwd-plain\":\""
                        + password + "\"}]}]")
                .put("/api/registry/credentials/" + tenant + "/" + device).then().statusCode(204);
    }
}

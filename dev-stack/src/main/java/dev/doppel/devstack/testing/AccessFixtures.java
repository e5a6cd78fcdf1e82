package dev.doppel.devstack.testing;

import dev.doppel.devstack.Tokens;
import java.util.List;
import java.util.Map;

/**
 * Tokens a user should never get through: from another realm, for another audience, expired; and
 * users the demo realm does not have. Created once per Keycloak through its admin API.
 */
public final class AccessFixtures {

    public static final String DEVICE_ADMIN = "dora";
    private static boolean created;

    private AccessFixtures() {
    }

    private static synchronized KeycloakAdmin ensure() {
        KeycloakAdmin admin = new KeycloakAdmin(RealInfrastructure.keycloak());
        if (!created) {
            // A device admin of tenant demo: may manage devices, may not read twins or send commands.
            admin.createUser("twin", DEVICE_ADMIN, DEVICE_ADMIN, List.of("dt-device-admin"), List.of("/tenant-demo"));
            // A client whose tokens live 2 seconds, otherwise like twin-app.
            admin.createClient("twin", Map.of("clientId", "short-lived", "publicClient", true,
                    "directAccessGrantsEnabled", true, "standardFlowEnabled", false,
                    "attributes", Map.of("access.token.lifespan", "2"),
                    "protocolMappers", List.of(Map.of("name", "aud", "protocol", "openid-connect",
                            "protocolMapper", "oidc-audience-mapper",
                            "config", Map.of("included.client.audience", "doppel-api", "access.token.claim", "true")))));
            // Another realm with the same user name and an audience mapper: its signature must not pass.
            admin.createRealm(Map.of("realm", "elsewhere", "enabled", true,
                    "roles", Map.of("realm", List.of(Map.of("name", "dt-admin"))),
                    "clients", List.of(Map.of("clientId", "twin-app", "publicClient", true,
                            "directAccessGrantsEnabled", true,
                            "protocolMappers", List.of(Map.of("name", "aud", "protocol", "openid-connect",
                                    "protocolMapper", "oidc-audience-mapper",
                                    "config", Map.of("included.custom.audience", "doppel-api",
                                            "access.token.claim", "true"))))),
                    "users", List.of(Map.of("username", "admin", "enabled", true, "emailVerified", true,
                            "email", "admin@elsewhere.local", "firstName", "A", "lastName", "B",
                            "realmRoles", List.of("dt-admin"),
                            "credentials", List.of(Map.of("type", "password", "value", "admin",
                                    "temporary", false))))));
            created = true;
        }
        return admin;
    }

    /** A token of a user with only {@code dt-device-admin}, tenant demo. */
    public static String deviceAdmin() {
        ensure();
        return RealInfrastructure.token(DEVICE_ADMIN);
    }

    /** A fresh token of the admin that expires 2 s after it was issued. */
    public static String shortLived() {
        ensure();
        return new Tokens(RealInfrastructure.keycloak().issuer()).password("short-lived", "admin", "admin");
    }

    /** A token of the right realm that has expired. */
    public static String expired() throws InterruptedException {
        ensure();
        String token = new Tokens(RealInfrastructure.keycloak().issuer()).password("short-lived", "admin", "admin");
        Thread.sleep(4000);
        return token;
    }

    /** A well-formed token with the right audience and roles, signed by another realm. */
    public static String otherRealm() {
        ensure();
        return new Tokens(RealInfrastructure.keycloak().baseUrl() + "/realms/elsewhere").password("admin", "admin");
    }

    /** A token of the right realm and user, issued to a client that is not meant for the API. */
    public static String otherAudience() {
        ensure();
        return new Tokens(RealInfrastructure.keycloak().issuer()).password("admin-cli", "admin", "admin");
    }
}

package dev.doppel.devstack.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.devstack.KeycloakServer;
import dev.doppel.devstack.Tokens;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Keycloak's admin REST API, as {@code kcadm.sh} uses it: for tests that need what the shipped realm
 * deliberately lacks (another realm, a short-lived client, a user with an unusual role).
 */
public final class KeycloakAdmin {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KeycloakServer keycloak;

    public KeycloakAdmin(KeycloakServer keycloak) {
        this.keycloak = keycloak;
    }

    private String adminToken() {
        return new Tokens(keycloak.baseUrl() + "/realms/master").password("admin-cli", "admin", "admin");
    }

    /** Creates (or keeps) a realm from its JSON representation. */
    public void createRealm(Map<String, Object> realm) {
        send("POST", "/admin/realms", realm, List.of(201, 409));
    }

    public void createClient(String realm, Map<String, Object> client) {
        send("POST", "/admin/realms/" + realm + "/clients", client, List.of(201, 409));
    }

    /** A user with a password, realm roles and groups (group paths like {@code /tenant-demo}). */
    public void createUser(String realm, String username, String password, List<String> realmRoles,
            List<String> groups) {
        send("POST", "/admin/realms/" + realm + "/users", Map.of(
                "username", username, "enabled", true, "emailVerified", true,
                "email", username + "@doppel.local", "firstName", username, "lastName", "Test",
                "credentials", List.of(Map.of("type", "password", "value", password, "temporary", false)),
                "realmRoles", realmRoles, "groups", groups), List.of(201, 409));
        // Realm roles in a user representation are only honoured by realm import; map them explicitly.
        try {
            String users = get("/admin/realms/" + realm + "/users?exact=true&username=" + username);
            String id = JSON.readTree(users).get(0).get("id").asText();
            for (String role : realmRoles) {
                String roleJson = get("/admin/realms/" + realm + "/roles/" + role);
                send("POST", "/admin/realms/" + realm + "/users/" + id + "/role-mappings/realm",
                        List.of(JSON.readValue(roleJson, Map.class)), List.of(204));
            }
            for (String group : groups) {
                String found = get("/admin/realms/" + realm + "/group-by-path" + group);
                String groupId = JSON.readTree(found).get("id").asText();
                send("PUT", "/admin/realms/" + realm + "/users/" + id + "/groups/" + groupId, Map.of(), List.of(204));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private String get(String path) {
        return exchange(HttpRequest.newBuilder(URI.create(keycloak.baseUrl() + path)).GET(), List.of(200));
    }

    private void send(String method, String path, Object body, List<Integer> accepted) {
        try {
            exchange(HttpRequest.newBuilder(URI.create(keycloak.baseUrl() + path))
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))), accepted);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private String exchange(HttpRequest.Builder request, List<Integer> accepted) {
        try {
            HttpResponse<String> r = HTTP.send(request.header("Authorization", "Bearer " + adminToken())
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            if (!accepted.contains(r.statusCode())) {
                throw new IllegalStateException("Keycloak admin API answered " + r.statusCode() + ": " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

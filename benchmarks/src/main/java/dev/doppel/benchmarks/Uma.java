package dev.doppel.benchmarks;

import dev.doppel.devstack.testing.KafkaProbe;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Keycloak's UMA grant, as an application would use it against the services' policy enforcer. */
final class Uma {

    private Uma() {
    }

    /**
     * Exchanges an access token for a requesting party token (RPT) that carries the caller's
     * permissions, so the enforcer finds them in the token itself.
     */
    static String rpt(HttpClient http, String issuer, String token) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(issuer + "/protocol/openid-connect/token"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Auma-ticket&audience=doppel-api"))
                .build(), HttpResponse.BodyHandlers.ofString());
        return KafkaProbe.JSON.readTree(r.body()).get("access_token").asText();
    }
}

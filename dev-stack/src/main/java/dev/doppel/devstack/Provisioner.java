package dev.doppel.devstack;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/** Registers devices and their credentials through connectivity's registry API, as an operator would. */
public final class Provisioner {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String registryBase;
    private final String bearer;

    /** {@code bearer}: an access token of a user with {@code dt-device-admin} (or {@code dt-admin}). */
    public Provisioner(String connectivityBaseUrl, String bearer) {
        this.registryBase = connectivityBaseUrl + "/api/registry";
        this.bearer = bearer;
    }

    public void device(String tenant, String deviceId, String password) throws IOException, InterruptedException {
        put("/devices/" + tenant + "/" + deviceId, "{\"enabled\":true}");
        put("/credentials/" + tenant + "/" + deviceId, "[" + passwordCredential(deviceId, password) + "]");
    }

    /**
     * A device with a password (MQTT, HTTP) and a DTLS pre-shared key (CoAP), both under auth-id
     * {@code deviceId}. The key is the UTF-8 bytes of {@code psk} (16 to 64 of them), which is what
     * libcoap's {@code coap-client -k} sends. One PUT: it replaces the device's whole credential set.
     */
    public void device(String tenant, String deviceId, String password, String psk)
            throws IOException, InterruptedException {
        put("/devices/" + tenant + "/" + deviceId, "{\"enabled\":true}");
        put("/credentials/" + tenant + "/" + deviceId, "[" + passwordCredential(deviceId, password)
                + ",{\"type\":\"psk\",\"auth-id\":\"" + deviceId + "\",\"secrets\":[{\"key\":\""
                + Base64.getEncoder().encodeToString(psk.getBytes(StandardCharsets.UTF_8)) + "\"}]}]");
    }

    private static String passwordCredential(String authId, String password) {
        return "{\"type\":\"hashed-password\",\"auth-id\":\"" + authId + "\",\"secrets\":[{\"pwd-plain\":\""
                + password + "\"}]}";
    }

    /** Registers a Modbus TCP device (no password: it is polled) with its poll plan. */
    public void modbusDevice(String tenant, String deviceId, String plan) throws IOException, InterruptedException {
        put("/devices/" + tenant + "/" + deviceId, "{\"enabled\":true}");
        put("/devices/" + tenant + "/" + deviceId + "/modbus", plan);
    }

    private void put(String path, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(registryBase + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + bearer)
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            throw new IOException("PUT " + path + " answered " + r.statusCode() + ": " + r.body());
        }
    }
}

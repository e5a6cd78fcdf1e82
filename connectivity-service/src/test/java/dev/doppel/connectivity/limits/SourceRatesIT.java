package dev.doppel.connectivity.limits;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.adapter.coap.CoapAdapter;
import dev.doppel.connectivity.adapter.mqtt.MqttAdapter;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.SocketFactory;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/**
 * One source address cannot take the login path from the others: past its allowance of new
 * connections and password checks ({@code %test}: a burst of 10, then hardly any), its CONNECTs, DTLS
 * handshakes and HTTP logins are refused with each protocol's answer while a device from another
 * address gets in. Each source is a loopback address of its own, 127.0.2.x (127.0.0.1 is trusted in tests;
 * MqttAdapterIT guesses passwords from 127.0.0.2).
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class SourceRatesIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static final String PASSWORD = "source-rates-secret";
    private static final int BURST = 10;

    @Inject
    MqttAdapter mqtt;

    @Inject
    CoapAdapter coap;

    private static void registerPasswordDevice(String id) {
        String admin = RealInfrastructure.token("admin");
        given().auth().oauth2(admin).contentType("application/json").body("{}")
                .put("/api/registry/devices/demo/" + id).then().statusCode(lessThan(300));
        given().auth().oauth2(admin).contentType("application/json")
                .body("[{\"type\":\"hashed-password\",\"auth-id\":\"" + id + "\",\"secrets\":[{\"pwd-plain\":\""
                        + PASSWORD + "\"}]}]")
                .put("/api/registry/credentials/demo/" + id).then().statusCode(204);
    }

    /** Plain sockets bound to one local address: the connections come from it. */
    private static SocketFactory from(String address) {
        return dev.doppel.connectivity.testing.BoundSockets.from(address);
    }

    private MqttClient connect(String id, String source) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + mqtt.port(), id + "-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName(id + "@demo");
        o.setPassword(PASSWORD.toCharArray());
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setSocketFactory(from(source));
        c.connect(o);
        return c;
    }

    @Test
    void mqttConnectsPastTheAllowanceAreRefusedWhileAnotherSourceGetsIn() throws Exception {
        registerPasswordDevice("rate-mqtt-1");
        String flooding = "127.0.2.1";
        for (int i = 0; i < BURST; i++) {
            MqttClient c = connect("rate-mqtt-1", flooding); // the positive control: these get in
            assertTrue(c.isConnected());
            c.disconnect();
            c.close();
        }
        MqttException refused = assertThrows(MqttException.class, () -> connect("rate-mqtt-1", flooding));
        assertEquals(MqttException.REASON_CODE_BROKER_UNAVAILABLE, refused.getReasonCode(),
                "CONNACK 3 (server unavailable) for MQTT 3.1.1: " + refused);
        MqttClient other = connect("rate-mqtt-1", "127.0.2.2");
        assertTrue(other.isConnected(), "a device from another address");
        other.publish("telemetry", "{\"t\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
        other.disconnect();
        other.close();
        String metrics = given().get(management + "metrics").then().extract().asString();
        assertTrue(metrics.contains("doppel_mqtt_connects_total{outcome=\"source-rate\"}"), "refusal not counted");
        assertTrue(metrics.contains("doppel_logins_limited_total{limit=\"connects\"}"), "limit not counted");
    }

    private static HttpResponse<String> postTelemetry(HttpClient http, String authId) throws Exception {
        String basic = Base64.getEncoder().encodeToString((authId + "@demo:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(URI.create(RestAssured.baseURI + ":" + RestAssured.port + "/telemetry"))
                .header("Authorization", "Basic " + basic).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"t\":1}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void httpPasswordChecksPastTheAllowanceAre429WhileAnotherSourceGetsIn() throws Exception {
        registerPasswordDevice("rate-http-1");
        HttpClient flooding = HttpClient.newBuilder().localAddress(InetAddress.getByName("127.0.2.3")).build();
        for (int i = 0; i < BURST; i++) {
            // Made-up auth-ids, each checked as slowly as a real one: refused, but checked.
            assertEquals(401, postTelemetry(flooding, "made-up-" + i).statusCode(), "check " + i);
        }
        HttpResponse<String> limited = postTelemetry(flooding, "made-up-" + BURST);
        assertEquals(429, limited.statusCode(), limited.body());
        assertTrue(limited.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        assertTrue(limited.headers().firstValue("Retry-After").isPresent(), "no Retry-After");
        HttpClient other = HttpClient.newBuilder().localAddress(InetAddress.getByName("127.0.2.4")).build();
        assertEquals(202, postTelemetry(other, "rate-http-1").statusCode(), "a device from another address");
    }

    private record Run(int exit, String output) {
    }

    /** libcoap's client from a given local address, with a fresh DTLS handshake each time. */
    private Run coapClient(String source, String identity, String key, int waitSeconds) throws Exception {
        Process p = new ProcessBuilder("coap-client-openssl", "-a", source, "-B", Integer.toString(waitSeconds),
                "-u", identity, "-k", key, "-m", "POST", "-t", "application/json", "-e", "{\"t\":1}",
                "coaps://127.0.0.1:" + coap.securePort() + "/telemetry").redirectErrorStream(true).start();
        assertTrue(p.waitFor(waitSeconds + 15L, TimeUnit.SECONDS), "coap-client did not finish");
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }

    @Test
    void dtlsHandshakesPastTheAllowanceAreDroppedWhileAnotherSourceGetsIn() throws Exception {
        String key = "rate-coap-1-secret-key";
        String admin = RealInfrastructure.token("admin");
        given().auth().oauth2(admin).contentType("application/json").body("{}")
                .put("/api/registry/devices/demo/rate-coap-1").then().statusCode(lessThan(300));
        given().auth().oauth2(admin).contentType("application/json")
                .body("[{\"type\":\"psk\",\"auth-id\":\"rate-coap-1\",\"secrets\":[{\"key\":\""
                        + Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8)) + "\"}]}]")
                .put("/api/registry/credentials/demo/rate-coap-1").then().statusCode(204);
        List<Run> allowed = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            allowed.add(coapClient("127.0.2.5", "rate-coap-1@demo", key, 15));
        }
        // coap-client exits with 0 either way; a failed handshake shows as "cannot send CoAP pdu".
        for (Run r : allowed) {
            assertTrue(r.exit() == 0 && r.output().isEmpty(), "a handshake within the allowance: " + r.output());
        }
        Run dropped = coapClient("127.0.2.5", "rate-coap-1@demo", key, 5);
        assertTrue(dropped.output().contains("cannot send CoAP pdu"),
                "a handshake past the allowance went through: " + dropped.output());
        Run other = coapClient("127.0.2.6", "rate-coap-1@demo", key, 15);
        assertTrue(other.exit() == 0 && other.output().isEmpty(), "a device from another address: " + other.output());
    }
}

package dev.doppel.connectivity.registry;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.adapter.mqtt.MqttAdapter;
import dev.doppel.connectivity.testing.Devices;
import dev.doppel.connectivity.testing.Mqtt5Callback;
import dev.doppel.connectivity.testing.Mqtt5Devices;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;

/**
 * A registry change ends the connections it makes unwelcome, on every instance, as it happens: before,
 * a disabled device, one of a disabled tenant, or one whose credentials were replaced kept its open
 * MQTT connection (reporting, taking commands) until it ended by itself. The change travels on
 * {@code dt.registry-changes}, which this instance reads like any other.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class RegistryChangesIT {

    private static final long WAIT_MS = Mqtt5Devices.WAIT_MS;

    @Inject
    MqttAdapter adapter;

    /** A connected MQTT 5 client and the DISCONNECT the server sent it, if any. */
    private record Connected(MqttAsyncClient client, AtomicReference<MqttDisconnectResponse> disconnect) {

        int publish(String payload) throws MqttException {
            return Mqtt5Devices.publish(client, "telemetry", payload);
        }

        boolean ended() {
            return !client.isConnected();
        }
    }

    private Connected connect(String tenant, String deviceId, String password) throws MqttException {
        AtomicReference<MqttDisconnectResponse> disconnect = new AtomicReference<>();
        MqttAsyncClient client = Mqtt5Devices.connect(adapter.port(), deviceId + "@" + tenant, password,
                new Mqtt5Callback() {
                    @Override
                    public void disconnected(MqttDisconnectResponse response) {
                        disconnect.set(response);
                    }
                });
        return new Connected(client, disconnect);
    }

    private static io.restassured.specification.RequestSpecification asAdmin() {
        return given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json");
    }

    /** Ended with MQTT 5's "not authorized" and the reason; the other connection (the control) stays. */
    private static void assertEndedWhileOtherStays(Connected ended, String reason, Connected stays) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(ended::ended);
        MqttDisconnectResponse response = ended.disconnect().get();
        assertNotNull(response, "no DISCONNECT from the server");
        assertEquals(0x87, response.getReturnCode(), "not authorized");
        assertTrue(String.valueOf(response.getReasonString()).startsWith(reason), response.getReasonString());
        assertTrue(!stays.ended(), "the other device's connection ended too");
        assertEquals(0x00, stays.publish("{\"temperature\":20}"));
    }

    @Test
    void disablingADeviceEndsItsConnection() throws Exception {
        Devices.withPassword("demo", "chg-disabled", "password-one-1", true);
        Devices.withPassword("demo", "chg-control-1", "password-one-1", true);
        Connected device = connect("demo", "chg-disabled", "password-one-1");
        Connected control = connect("demo", "chg-control-1", "password-one-1");
        assertEquals(0x00, device.publish("{\"temperature\":21}"));
        // Another registration change that keeps it enabled leaves it connected.
        asAdmin().body("{\"enabled\":true,\"defaults\":{\"content-type\":\"application/json\"}}")
                .put("/api/registry/devices/demo/chg-disabled").then().statusCode(204);
        asAdmin().body("{\"enabled\":false}").put("/api/registry/devices/demo/chg-disabled").then().statusCode(204);
        assertEndedWhileOtherStays(device, "device-disabled", control);
        assertThrows(MqttException.class, () -> connect("demo", "chg-disabled", "password-one-1"));
        control.client().disconnect().waitForCompletion(WAIT_MS);
    }

    @Test
    void newCredentialsEndTheConnectionsMadeWithTheOldOnes() throws Exception {
        Devices.withPassword("demo", "chg-creds", "old-password-1", true);
        Devices.withPassword("demo", "chg-control-2", "password-two-2", true);
        Connected device = connect("demo", "chg-creds", "old-password-1");
        Connected control = connect("demo", "chg-control-2", "password-two-2");
        Devices.withPassword("demo", "chg-creds", "new-password-2", true);
        assertEndedWhileOtherStays(device, "credentials-changed", control);
        assertThrows(MqttException.class, () -> connect("demo", "chg-creds", "old-password-1"));
        Connected again = connect("demo", "chg-creds", "new-password-2");
        assertEquals(0x00, again.publish("{\"temperature\":22}"));
        again.client().disconnect().waitForCompletion(WAIT_MS);
        control.client().disconnect().waitForCompletion(WAIT_MS);
    }

    @Test
    void disablingATenantEndsItsDevicesConnections() throws Exception {
        Devices.withPassword("chgtenant", "d1", "password-three-3", true);
        Devices.withPassword("demo", "chg-control-3", "password-three-3", true);
        Connected device = connect("chgtenant", "d1", "password-three-3");
        Connected control = connect("demo", "chg-control-3", "password-three-3");
        asAdmin().body("{\"enabled\":false}").put("/api/registry/tenants/chgtenant").then().statusCode(204);
        try {
            assertEndedWhileOtherStays(device, "tenant-disabled", control);
        } finally {
            asAdmin().body("{\"enabled\":true}").put("/api/registry/tenants/chgtenant").then().statusCode(204);
        }
        Connected again = connect("chgtenant", "d1", "password-three-3");
        assertEquals(0x00, again.publish("{\"temperature\":23}"));
        again.client().disconnect().waitForCompletion(WAIT_MS);
        control.client().disconnect().waitForCompletion(WAIT_MS);
    }
}

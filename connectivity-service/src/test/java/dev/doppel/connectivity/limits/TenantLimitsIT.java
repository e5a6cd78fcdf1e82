package dev.doppel.connectivity.limits;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.adapter.mqtt.MqttAdapter;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/** A tenant's limits: connections held at once (MQTT) and messages per second per device (MQTT, HTTP). */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class TenantLimitsIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static final String PASSWORD = "limits-secret";

    @Inject
    MqttAdapter mqtt;

    private static RequestSpecification admin() {
        return given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json");
    }

    private static void register(String tenant, String id) {
        admin().body("{}").put("/api/registry/devices/" + tenant + "/" + id).then().statusCode(lessThan(300));
        admin().body("[{\"type\":\"hashed-password\",\"auth-id\":\"" + id + "\",\"secrets\":[{\"pwd-plain\":\""
                + PASSWORD + "\"}]}]").put("/api/registry/credentials/" + tenant + "/" + id).then().statusCode(204);
    }

    private MqttClient connect(String tenant, String id) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + mqtt.port(), id + "-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName(id + "@" + tenant);
        o.setPassword(PASSWORD.toCharArray());
        // No fallback to MQTT 3.1 after a refusal: the refusal's code is what the test reads.
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        c.connect(o);
        return c;
    }

    @Test
    void aTenantHoldsNoMoreConnectionsThanItsLimit() throws Exception {
        register("limited", "conn-1");
        register("limited", "conn-2");
        admin().body("{\"max-connections\":1}").put("/api/registry/tenants/limited/limits").then().statusCode(204);
        admin().get("/api/registry/tenants/limited/limits").then().body("max-connections", equalTo(1));
        MqttClient first = connect("limited", "conn-1");
        MqttException refused = assertThrows(MqttException.class, () -> connect("limited", "conn-2"));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, refused.getReasonCode());
        first.disconnect();
        first.close();
        // The slot is free again.
        MqttClient second = connect("limited", "conn-2");
        assertTrue(second.isConnected());
        second.disconnect();
        second.close();
        // Enabling or disabling the tenant keeps its limits.
        admin().body("{\"enabled\":true}").put("/api/registry/tenants/limited").then().statusCode(204);
        admin().get("/api/registry/tenants/limited/limits").then().body("max-connections", equalTo(1));
        String metrics = given().get(management + "metrics").then().extract().asString();
        assertTrue(metrics.contains("doppel_mqtt_connects_total{outcome=\"connection-limit\"}"), "not counted");
    }

    @Test
    void aDeviceSendingFasterThanAllowedIsStopped() throws Exception {
        register("throttled", "rate-1");
        register("throttled", "rate-2");
        admin().body("{\"messages-per-second\":2}").put("/api/registry/tenants/throttled/limits").then()
                .statusCode(204);
        MqttClient device = connect("throttled", "rate-1");
        assertThrows(MqttException.class, () -> {
            for (int i = 0; i < 10; i++) {
                device.publish("telemetry", ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8), 1, false);
            }
        }, "ten messages at once passed a limit of 2 per second");
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !device.isConnected());
        device.close(true);

        RequestSpecification http = given().auth().preemptive().basic("rate-2@throttled", PASSWORD)
                .contentType("application/json").body("{\"n\":1}");
        int limited = 0;
        for (int i = 0; i < 6; i++) {
            int status = http.post("/telemetry").then().extract().statusCode();
            limited += status == 429 ? 1 : 0;
        }
        assertTrue(limited > 0, "six requests at once passed a limit of 2 per second");
        Thread.sleep(1100);
        http.post("/telemetry").then().statusCode(202);
        admin().body("{\"messages-per-second\":0}").put("/api/registry/tenants/throttled/limits").then().statusCode(400);
    }
}

package dev.doppel.twin.messaging;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Registry and connection events from the real broker, reflected in twins. */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class DeviceEventsIT {

    private static RequestSpecification admin() {
        return given().auth().oauth2(RealInfrastructure.token("admin"));
    }

    @Test
    void aRegisteredDeviceGetsATwinAndARemovedOneLosesIt() {
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            DeviceLifecycleChanged registered = new DeviceLifecycleChanged(UUID.randomUUID().toString(), "demo:dev-new",
                    true, Instant.now());
            kafka.sendEvent(Topics.DEVICES, "demo:dev-new", EventTypes.DEVICE_LIFECYCLE_CHANGED, "/connectivity/registry",
                    registered);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> admin().get("/api/2/things/demo:dev-new").then()
                    .statusCode(200).body("_revision", equalTo(1)).body("features.size()", equalTo(0)));
            // Registered again (a redelivery): the twin stays as it is.
            kafka.sendEvent(Topics.DEVICES, "demo:dev-new", EventTypes.DEVICE_LIFECYCLE_CHANGED, "/connectivity/registry",
                    registered);
            kafka.sendEvent(Topics.DEVICES, "demo:dev-new", EventTypes.DEVICE_LIFECYCLE_CHANGED, "/connectivity/registry",
                    new DeviceLifecycleChanged(UUID.randomUUID().toString(), "demo:dev-new", false, Instant.now()));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> admin().get("/api/2/things/demo:dev-new").then()
                    .statusCode(404));
            admin().queryParam("revision", 1).get("/api/2/things/demo:dev-new/history").then().statusCode(200);
        }
    }

    @Test
    void connectionChangesShowAsTheConnectivityFeatureInTimeOrder() {
        Instant t = Instant.now();
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers())) {
            kafka.sendEvent(Topics.DEVICE_CONNECTIONS, "demo:dev-conn", EventTypes.DEVICE_CONNECTION_CHANGED, "/test",
                    new DeviceConnectionChanged(UUID.randomUUID().toString(), "demo:dev-conn", -1, "mqtt", t));
            // An older "gone" arriving late does not override the newer "connected".
            kafka.sendEvent(Topics.DEVICE_CONNECTIONS, "demo:dev-conn", EventTypes.DEVICE_CONNECTION_CHANGED, "/test",
                    new DeviceConnectionChanged(UUID.randomUUID().toString(), "demo:dev-conn", 0, "mqtt", t.minusSeconds(5)));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> admin().get("/api/2/things/demo:dev-conn").then()
                    .statusCode(200)
                    .body("features.connectivity.properties.status", equalTo("connected"))
                    .body("features.connectivity.properties.since", equalTo(t.toString())));
            kafka.sendEvent(Topics.DEVICE_CONNECTIONS, "demo:dev-conn", EventTypes.DEVICE_CONNECTION_CHANGED, "/test",
                    new DeviceConnectionChanged(UUID.randomUUID().toString(), "demo:dev-conn", 0, "mqtt", t.plusSeconds(1)));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> admin().get("/api/2/things/demo:dev-conn").then()
                    .body("features.connectivity.properties.status", equalTo("disconnected")));
        }
    }
}

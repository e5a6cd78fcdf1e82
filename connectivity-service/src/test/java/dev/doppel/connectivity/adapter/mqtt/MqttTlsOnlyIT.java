package dev.doppel.connectivity.adapter.mqtt;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.junit.jupiter.api.Test;

/**
 * MQTT as the production overlay runs it: over TLS only ({@code doppel.mqtt.plain=false}). Nothing
 * listens on the plain port, devices connect over TLS, and the service is ready.
 */
@QuarkusTest
@TestProfile(MqttTlsOnlyIT.TlsOnly.class)
@QuarkusTestResource(RealInfrastructure.class)
class MqttTlsOnlyIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    /**
     * The TLS listener of MqttTlsIT, and the plain one off on a port this test keeps bound without
     * listening, for the whole JVM: no other listener can take it in between (a port only found free
     * once could be taken by the next server started on port 0), a connect to it cannot connect to
     * itself, and an adapter that did try to listen there would fail to start.
     */
    public static class TlsOnly implements QuarkusTestProfile {
        private static SocketChannel reserved;

        static synchronized int reservedPort() {
            try {
                if (reserved == null) {
                    reserved = SocketChannel.open();
                    reserved.setOption(StandardSocketOptions.SO_REUSEADDR, false);
                    reserved.bind(new InetSocketAddress("0.0.0.0", 0));
                }
                return ((InetSocketAddress) reserved.getLocalAddress()).getPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>(new MqttTlsIT.WithTls().getConfigOverrides());
            config.put("doppel.mqtt.plain", "false");
            config.put("doppel.mqtt.port", Integer.toString(reservedPort()));
            return config;
        }
    }

    @Inject
    MqttAdapter adapter;

    @ConfigProperty(name = "doppel.mqtt.port")
    int plainPort;

    @Test
    void devicesConnectOverTlsAndNothingListensInClear() throws Exception {
        MqttTlsIT.registerDevice();
        MqttClient device = MqttTlsIT.paho("ssl://127.0.0.1:" + adapter.tlsPort(), MqttTlsIT.PASSWORD, true);
        assertTrue(device.isConnected(), "the positive control: a device over TLS");
        device.disconnect();
        device.close();

        assertEquals(-1, adapter.port());
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", plainPort), 2_000);
            }
        }, "something listens on the plain MQTT port " + plainPort);
        given().get(management + "health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'mqtt-adapter' }.status", equalTo("UP"));
    }
}

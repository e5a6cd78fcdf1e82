package dev.doppel.connectivity.adapter.mqtt;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * MQTT over TLS, as the prod overlay runs it: the certificate and key are PEM files (a
 * kubernetes.io/tls Secret), here a throw-away pair made by openssl. Driven by Debian's
 * mosquitto_pub and by Eclipse Paho, both verifying the server's certificate.
 */
@QuarkusTest
@TestProfile(MqttTlsIT.WithTls.class)
@QuarkusTestResource(RealInfrastructure.class)
class MqttTlsIT {

    static final String PASSWORD = "tls-password";
    /** The server's throw-away certificate and key; MqttX509IT trusts the same. */
    static final Path certificates = Path.of("target", "mqtt-tls").toAbsolutePath();
    private static KafkaProbe kafka;

    @Inject
    MqttAdapter adapter;

    /** Turns the TLS listener on, on a free port, with a certificate for 127.0.0.1 made for this run. */
    public static class WithTls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Path dir = selfSignedCertificate();
            return Map.of("doppel.mqtt.tls.enabled", "true", "doppel.mqtt.tls.port", "0",
                    "doppel.mqtt.tls.cert-path", dir.resolve("tls.crt").toString(),
                    "doppel.mqtt.tls.key-path", dir.resolve("tls.key").toString());
        }
    }

    /**
     * Makes the pair in a fixed place: Quarkus builds the profile in its own class loader, so the
     * server and this test share the files, not a static field.
     */
    private static Path selfSignedCertificate() {
        try {
            Path dir = certificates;
            Files.createDirectories(dir);
            run(new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", dir.resolve("tls.key").toString(), "-out", dir.resolve("tls.crt").toString()));
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException("openssl could not make a certificate", e);
        }
    }

    static String run(ProcessBuilder pb) throws IOException {
        Process p = pb.redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(pb.command() + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(pb.command().get(0) + " exited with " + p.exitValue() + ": " + out);
        }
        return out;
    }

    @BeforeAll
    static void setUp() {
        kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
    }

    /** Registers the device (idempotent); inside a test, where the application's HTTP port is known. */
    static void registerDevice() {
        String admin = RealInfrastructure.token("admin");
        given().auth().oauth2(admin).contentType("application/json").body("{\"enabled\":true}")
                .put("/api/registry/devices/demo/d-tls").then().statusCode(org.hamcrest.Matchers.oneOf(201, 204));
        given().auth().oauth2(admin).contentType("application/json")
                .body("[{\"type\":\"hashed-password\",\"auth-id\":\"d-tls\",\"secrets\":[{\"pwd-plain\":\"" + PASSWORD
                        + "\"}]}]")
                .put("/api/registry/credentials/demo/d-tls").then().statusCode(204);
    }

    @AfterAll
    static void tearDown() {
        kafka.close();
    }

    @Test
    void mosquittoPublishesOverTlsAndTheEventIsOnKafka() throws Exception {
        registerDevice();
        try (KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            run(new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(adapter.tlsPort()),
                    "--cafile", certificates.resolve("tls.crt").toString(), "-u", "d-tls@demo", "-P", PASSWORD,
                    "-t", "telemetry", "-q", "1", "-m", "{\"secure\":true}"));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry,
                    x -> "demo:d-tls".equals(x.key())
                            && Boolean.TRUE.equals(KafkaProbe.read(x, TelemetryReceived.class).features()
                                    .get("telemetry").get("secure")),
                    Duration.ofSeconds(15));
            assertNotNull(r, "telemetry sent over TLS is not on Kafka");
        }
    }

    @Test
    void credentialsAreCheckedOverTlsAsOverPlainMqtt() throws Exception {
        registerDevice();
        MqttClient device = paho("ssl://127.0.0.1:" + adapter.tlsPort(), PASSWORD, true);
        assertTrue(device.isConnected());
        device.publish("telemetry", "{\"n\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
        device.disconnect();
        MqttException refused = assertThrows(MqttException.class,
                () -> paho("ssl://127.0.0.1:" + adapter.tlsPort(), "wrong", true));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refused.getReasonCode());
    }

    @Test
    void theTlsPortSpeaksNoPlainMqttAndThePlainPortStillWorks() throws Exception {
        registerDevice();
        assertNotEquals(-1, adapter.tlsPort());
        assertThrows(MqttException.class, () -> paho("tcp://127.0.0.1:" + adapter.tlsPort(), PASSWORD, false));
        MqttClient plain = paho("tcp://127.0.0.1:" + adapter.port(), PASSWORD, false);
        assertTrue(plain.isConnected());
        plain.disconnect();
    }

    static MqttClient paho(String uri, String password, boolean trustTestCertificate) throws Exception {
        MqttClient client = new MqttClient(uri, "d-tls-" + UUID.randomUUID(), new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName("d-tls@demo");
        o.setPassword(password.toCharArray());
        o.setConnectionTimeout(5);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        if (trustTestCertificate) {
            o.setSocketFactory(trusting(certificates.resolve("tls.crt")).getSocketFactory());
        }
        client.setTimeToWait(10_000);
        client.connect(o);
        return client;
    }

    private static SSLContext trusting(Path certificate) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(certificate)) {
            trust.setCertificateEntry("doppel-test", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}

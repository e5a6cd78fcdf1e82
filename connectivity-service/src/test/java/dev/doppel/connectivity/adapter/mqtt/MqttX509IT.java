package dev.doppel.connectivity.adapter.mqtt;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.oneOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.AccessFixtures;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.x500.X500Principal;
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
 * Devices logging in over MQTT/TLS with X.509 client certificates, Eclipse Hono's way: the tenant
 * trusts a CA, the device has an {@code x509-cert} credential named by its certificate's subject DN.
 * Every CA and certificate is a throw-away one made by openssl for this run; the server is the one
 * of {@link MqttTlsIT} (same profile, same application).
 */
@QuarkusTest
@TestProfile(MqttTlsIT.WithTls.class)
@QuarkusTestResource(RealInfrastructure.class)
class MqttX509IT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static final Path dir = Path.of("target", "mqtt-x509").toAbsolutePath();
    private static final String PASSWORD = "x509-password";
    private static final DateTimeFormatter OPENSSL_TIME =
            DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final String DEMO_CA_DN = "/O=ACME/CN=Doppel Test Device CA";

    private static KafkaProbe kafka;
    private static Ca demoCa;
    private static Ca otherCa;
    private static Ca impostorCa;
    private static Ca frozenCa;
    private static Ca rotateCa;
    private static Ca revokeCa;
    /** Device certificates by name: a PKCS#12 for Paho, the PEM pair for mosquitto. */
    private static Path device;
    private static Path deviceFromOtherCa;
    private static Path deviceFromImpostor;
    private static Path nobody;
    private static Path disabled;
    private static Path expired;
    private static Path notYetValid;
    private static Path serverOnly;
    private static Path frozen;
    private static Path rotate;
    /** Two certificates of one device (one subject), the first of which gets revoked. */
    private static Path compromised;
    private static Path reissued;

    @Inject
    MqttAdapter adapter;

    /** A throw-away CA with what {@code openssl ca} needs beside it. */
    record Ca(Path dir) {
        Path cert() {
            return dir.resolve("ca.crt");
        }

        String pem() throws IOException {
            return Files.readString(cert());
        }
    }

    @BeforeAll
    static void makeCertificates() throws IOException {
        kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
        Files.createDirectories(dir);
        demoCa = ca("demo-ca", DEMO_CA_DN);
        otherCa = ca("other-ca", "/O=ACME/CN=Some Other CA");
        impostorCa = ca("impostor-ca", DEMO_CA_DN); // the demo CA's name, another key
        frozenCa = ca("frozen-ca", "/O=Frozen/CN=Frozen Device CA");
        rotateCa = ca("rotate-ca", "/O=Rotate/CN=Rotate Device CA");
        Instant now = Instant.now();
        Instant start = now.minus(1, ChronoUnit.HOURS);
        Instant end = now.plus(1, ChronoUnit.DAYS);
        device = issue(demoCa, "d-x509", "/O=ACME/CN=d-x509", start, end, "client");
        deviceFromOtherCa = issue(otherCa, "d-x509-other", "/O=ACME/CN=d-x509", start, end, "client");
        deviceFromImpostor = issue(impostorCa, "d-x509-impostor", "/O=ACME/CN=d-x509", start, end, "client");
        nobody = issue(demoCa, "nobody", "/O=ACME/CN=nobody-x509", start, end, "client");
        disabled = issue(demoCa, "d-x509-off", "/O=ACME/CN=d-x509-off", start, end, "client");
        expired = issue(demoCa, "d-x509-expired", "/O=ACME/CN=d-x509", Instant.parse("2020-01-01T00:00:00Z"),
                Instant.parse("2020-02-01T00:00:00Z"), "client");
        notYetValid = issue(demoCa, "d-x509-future", "/O=ACME/CN=d-x509", now.plus(300, ChronoUnit.DAYS),
                now.plus(400, ChronoUnit.DAYS), "client");
        serverOnly = issue(demoCa, "d-x509-server", "/O=ACME/CN=d-x509", start, end, "server");
        frozen = issue(frozenCa, "d-frozen", "/O=Frozen/CN=d-frozen-x509", start, end, "client");
        rotate = issue(rotateCa, "d-rotate", "/O=Rotate/CN=d-rotate-x509", start, end, "client");
        revokeCa = ca("revoke-ca", "/O=Revoke/CN=Revoke Device CA");
        compromised = issue(revokeCa, "d-revoke-old", "/O=Revoke/CN=d-revoke-x509", start, end, "client");
        reissued = issue(revokeCa, "d-revoke-new", "/O=Revoke/CN=d-revoke-x509", start, end, "client");
    }

    @AfterAll
    static void tearDown() {
        kafka.close();
    }

    private static Ca ca(String name, String subject) throws IOException {
        Path caDir = dir.resolve(name);
        Files.createDirectories(caDir.resolve("issued"));
        MqttTlsIT.run(new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout", "ca.key", "-out", "ca.crt").directory(caDir.toFile()));
        Files.writeString(caDir.resolve("index.txt"), "");
        Files.writeString(caDir.resolve("ca.cnf"), """
                [ca]
                default_ca = test
                [test]
                database = index.txt
                new_certs_dir = issued
                certificate = ca.crt
                private_key = ca.key
                rand_serial = yes
                default_md = sha256
                policy = any
                unique_subject = no
                preserve = yes
                [any]
                organizationName = optional
                commonName = supplied
                [client]
                basicConstraints = CA:FALSE
                keyUsage = critical, digitalSignature
                extendedKeyUsage = clientAuth
                [server]
                basicConstraints = CA:FALSE
                keyUsage = critical, digitalSignature
                extendedKeyUsage = serverAuth
                """);
        return new Ca(caDir);
    }

    /**
     * A device key (EC P-256) and a certificate for it from the CA, valid from {@code start} to
     * {@code end}; {@code name}.crt, .key and .p12 in the CA's directory.
     */
    private static Path issue(Ca ca, String name, String subject, Instant start, Instant end, String extensions)
            throws IOException {
        MqttTlsIT.run(new ProcessBuilder("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-subj", subject, "-keyout", name + ".key", "-out", name + ".csr")
                .directory(ca.dir().toFile()));
        MqttTlsIT.run(new ProcessBuilder("openssl", "ca", "-batch", "-config", "ca.cnf", "-notext",
                "-extensions", extensions, "-startdate", OPENSSL_TIME.format(start),
                "-enddate", OPENSSL_TIME.format(end),
                "-in", name + ".csr", "-out", name + ".crt").directory(ca.dir().toFile()));
        MqttTlsIT.run(new ProcessBuilder("openssl", "pkcs12", "-export", "-in", name + ".crt", "-inkey", name + ".key",
                "-out", name + ".p12", "-passout", "pass:changeit").directory(ca.dir().toFile()));
        return ca.dir().resolve(name);
    }

    /**
     * The CA's CRL as {@code openssl ca -gencrl} writes it from the CA's database, issued at
     * {@code thisUpdate}, in PEM.
     */
    private static String crl(Ca ca, Instant thisUpdate) throws IOException {
        Path out = ca.dir().resolve("crl-" + thisUpdate.getEpochSecond() + ".pem");
        MqttTlsIT.run(new ProcessBuilder("openssl", "ca", "-batch", "-config", "ca.cnf", "-gencrl",
                "-crl_lastupdate", OPENSSL_TIME.format(thisUpdate),
                "-crl_nextupdate", OPENSSL_TIME.format(thisUpdate.plus(1, ChronoUnit.DAYS)),
                "-out", out.toString()).directory(ca.dir().toFile()));
        return Files.readString(out);
    }

    private static void revoke(Ca ca, Path certificate) throws IOException {
        MqttTlsIT.run(new ProcessBuilder("openssl", "ca", "-batch", "-config", "ca.cnf", "-revoke",
                certificate + ".crt", "-crl_reason", "keyCompromise").directory(ca.dir().toFile()));
    }

    private static io.restassured.response.ValidatableResponse putCrls(String tenant, String... pems)
            throws IOException {
        StringBuilder body = new StringBuilder("[");
        for (String pem : pems) {
            body.append(body.length() > 1 ? "," : "").append("{\"crl\":")
                    .append(KafkaProbe.JSON.writeValueAsString(pem)).append('}');
        }
        return asAdmin().contentType("application/json").body(body.append(']').toString())
                .put("/api/registry/tenants/" + tenant + "/crls").then();
    }

    private static RequestSpecification asAdmin() {
        return given().auth().oauth2(RealInfrastructure.token("admin"));
    }

    private static void trust(String tenant, Ca... cas) throws IOException {
        StringBuilder body = new StringBuilder("[");
        for (Ca ca : cas) {
            body.append(body.length() > 1 ? "," : "").append("{\"cert\":")
                    .append(KafkaProbe.JSON.writeValueAsString(ca.pem())).append('}');
        }
        asAdmin().contentType("application/json").body(body.append(']').toString())
                .put("/api/registry/tenants/" + tenant + "/trusted-ca").then().statusCode(204);
    }

    /** Registers a device whose credential is its certificate's subject DN (idempotent). */
    private static void register(String tenant, String deviceId, boolean enabled, String subjectDn) {
        asAdmin().contentType("application/json").body("{\"enabled\":" + enabled + "}")
                .put("/api/registry/devices/" + tenant + "/" + deviceId).then().statusCode(oneOf(201, 204));
        asAdmin().contentType("application/json")
                .body("[{\"type\":\"x509-cert\",\"auth-id\":\"" + subjectDn + "\",\"secrets\":[{}]}]")
                .put("/api/registry/credentials/" + tenant + "/" + deviceId).then().statusCode(204);
    }

    private static void setUpDemo() throws IOException {
        trust("demo", demoCa);
        // Written with a space: kept in RFC 2253 form, as the certificate's subject compares.
        register("demo", "d-x509", true, "CN=d-x509, O=ACME");
        register("demo", "d-x509-off", false, "CN=d-x509-off,O=ACME");
    }

    /** A Paho client over TLS presenting the certificate, trusting the server's; with a password if one is given. */
    private MqttClient connect(Path certificate, String username, String password) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Path.of(certificate + ".p12"))) {
            keys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, "changeit".toCharArray());
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(MqttTlsIT.certificates.resolve("tls.crt"))) {
            trust.setCertificateEntry("server", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

        MqttClient client = new MqttClient("ssl://127.0.0.1:" + adapter.tlsPort(), "x509-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        if (username != null) {
            o.setUserName(username);
            o.setPassword(password.toCharArray());
        }
        o.setSocketFactory(ssl.getSocketFactory());
        o.setConnectionTimeout(10);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        client.setTimeToWait(10_000);
        client.connect(o);
        return client;
    }

    private int refusedWith(Path certificate) {
        return assertThrows(MqttException.class, () -> connect(certificate, null, null).disconnect(),
                certificate.getFileName() + " was accepted").getReasonCode();
    }

    private static X509Certificate read(Path certificate) throws Exception {
        try (InputStream in = Files.newInputStream(Path.of(certificate + ".crt"))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void aDeviceLogsInWithItsCertificateAndItsTelemetryIsOnKafkaAsThatDevice() throws Exception {
        setUpDemo();
        assertEquals("CN=d-x509,O=ACME", read(device).getSubjectX500Principal().getName(X500Principal.RFC2253));
        asAdmin().get("/api/registry/credentials/demo/d-x509").then().statusCode(200)
                .body("[0].type", equalTo("x509-cert")).body("[0].auth-id", equalTo("CN=d-x509,O=ACME"));
        asAdmin().get("/api/registry/tenants/demo/trusted-ca").then().statusCode(200)
                .body("subject-dn", hasItem("CN=Doppel Test Device CA,O=ACME"))
                .body("[0].cert", containsString("BEGIN CERTIFICATE"));
        try (KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            MqttClient client = connect(device, null, null);
            client.publish("telemetry", "{\"login\":\"paho-x509\"}".getBytes(StandardCharsets.UTF_8), 1, false);
            client.disconnect();
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:d-x509".equals(x.key())
                    && "paho-x509".equals(KafkaProbe.read(x, TelemetryReceived.class).features().get("telemetry")
                            .get("login")), Duration.ofSeconds(15));
            assertNotNull(r, "telemetry of the certificate's device is not on Kafka");
            assertEquals("demo:d-x509", KafkaProbe.header(r, "ce_subject"));
        }
    }

    @Test
    void mosquittoPublishesWithTheDeviceCertificate() throws Exception {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")), "this test needs mosquitto_pub: apt-get install mosquitto-clients");
        setUpDemo();
        try (KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            MqttTlsIT.run(new ProcessBuilder("/usr/bin/mosquitto_pub", "-h", "127.0.0.1",
                    "-p", Integer.toString(adapter.tlsPort()),
                    "--cafile", MqttTlsIT.certificates.resolve("tls.crt").toString(),
                    "--cert", device + ".crt", "--key", device + ".key",
                    "-t", "telemetry", "-q", "1", "-m", "{\"login\":\"mosquitto-x509\"}"));
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:d-x509".equals(x.key())
                    && "mosquitto-x509".equals(KafkaProbe.read(x, TelemetryReceived.class).features()
                            .get("telemetry").get("login")), Duration.ofSeconds(15));
            assertNotNull(r, "telemetry mosquitto_pub sent with a client certificate is not on Kafka");
        }
    }

    @Test
    void certificatesNoTrustedCaIssuedOrNoDeviceOwnsAreRefusedAndCounted() throws Exception {
        setUpDemo();
        // The same subject, but from a CA no tenant trusts, or from one only named like the demo CA.
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(deviceFromOtherCa));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(deviceFromImpostor));
        // The demo CA issued them, but they are not (or no longer, not yet) valid, or not for clients.
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(expired));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(notYetValid));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(serverOnly));
        // Trusted, but no device has its subject DN as a credential.
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(nobody));
        // A disabled device.
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, refusedWith(disabled));

        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        for (String outcome : new String[] {"untrusted-certificate", "certificate-expired",
                "certificate-not-yet-valid", "unknown-certificate", "device-disabled"}) {
            assertTrue(metrics.contains("doppel_mqtt_connects_total{outcome=\"" + outcome + "\"}"), outcome);
        }
    }

    @Test
    void aPasswordInTheConnectDecidesEvenWithACertificate() throws Exception {
        setUpDemo();
        asAdmin().contentType("application/json").body("{\"enabled\":true}")
                .put("/api/registry/devices/demo/d-x509-pw").then().statusCode(oneOf(201, 204));
        asAdmin().contentType("application/json").body("[{\"type\":\"hashed-password\",\"auth-id\":\"d-x509-pw\","
                + "\"secrets\":[{\"pwd-plain\":\"" + PASSWORD + "\"}]}]")
                .put("/api/registry/credentials/demo/d-x509-pw").then().statusCode(204);
        // A certificate no device owns, with the right password: in, as the password's device.
        connect(nobody, "d-x509-pw@demo", PASSWORD).disconnect();
        // A valid certificate with a wrong password: refused, the certificate does not step in.
        MqttException wrong = assertThrows(MqttException.class, () -> connect(device, "d-x509-pw@demo", "wrong-one"));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, wrong.getReasonCode());
    }

    @Test
    void aDisabledTenantsCertificatesAreRefusedUntilItIsEnabledAgain() throws Exception {
        trust("x509-frozen", frozenCa);
        register("x509-frozen", "d-frozen", true, "CN=d-frozen-x509,O=Frozen");
        asAdmin().contentType("application/json").body("{\"enabled\":false}").put("/api/registry/tenants/x509-frozen")
                .then().statusCode(204);
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, refusedWith(frozen));
        asAdmin().contentType("application/json").body("{\"enabled\":true}").put("/api/registry/tenants/x509-frozen")
                .then().statusCode(204);
        connect(frozen, null, null).disconnect();
    }

    @Test
    void aCaTakesEffectWhenItIsAddedAndStopsWhenItIsRemoved() throws Exception {
        register("x509-rotate", "d-rotate", true, "CN=d-rotate-x509,O=Rotate");
        trust("x509-rotate");
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(rotate));
        trust("x509-rotate", rotateCa);
        connect(rotate, null, null).disconnect();
        trust("x509-rotate");
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(rotate));
        asAdmin().get("/api/registry/tenants/x509-rotate/trusted-ca").then().statusCode(200).body("size()", equalTo(0));
    }

    @Test
    void aRevokedCertificateIsRefusedWhileTheDevicesNewOneLogsIn() throws Exception {
        trust("x509-revoke", revokeCa);
        register("x509-revoke", "d-revoke", true, "CN=d-revoke-x509,O=Revoke");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        String before = crl(revokeCa, now.minus(10, ChronoUnit.MINUTES)); // issued before the key was lost
        // Both certificates of the device log in while no list names either.
        putCrls("x509-revoke", before).statusCode(204);
        MqttClient lost = connect(compromised, null, null);
        MqttClient kept = connect(reissued, null, null);

        revoke(revokeCa, compromised);
        String after = crl(revokeCa, now);
        putCrls("x509-revoke", after).statusCode(204);
        // The revoked certificate's open connection ends; the device's new certificate's stays and publishes.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !lost.isConnected());
        assertTrue(kept.isConnected(), "the connection of the certificate not revoked ended too");
        kept.publish("telemetry", "{\"temperature\":20}".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false);
        kept.disconnect();
        lost.close();
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(compromised));
        connect(reissued, null, null).disconnect();
        asAdmin().get("/api/registry/tenants/x509-revoke/crls").then().statusCode(200)
                .body("size()", equalTo(1)).body("[0].issuer-dn", equalTo("CN=Revoke Device CA,O=Revoke"))
                .body("[0].revoked", equalTo(1)).body("[0].stale", equalTo(false))
                .body("[0].crl", containsString("BEGIN X509 CRL"));
        String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("doppel_mqtt_connects_total{outcome=\"certificate-revoked\"}"), metrics);

        // Yesterday's list does not undo the revocation, nor does one another CA signed, nor a device admin.
        putCrls("x509-revoke", before).statusCode(409).body("type", equalTo("https://doppel.dev/problems/crl-outdated"));
        putCrls("x509-revoke", crl(otherCa, now), "not a CRL").statusCode(400)
                .contentType(containsString("application/problem+json"))
                .body("type", equalTo("https://doppel.dev/problems/invalid-crl"))
                .body("detail", containsString("crl 0: none of the tenant's trusted CAs signed it"))
                .body("detail", containsString("crl 1: "));
        given().auth().oauth2(AccessFixtures.deviceAdmin()).contentType("application/json").body("[]")
                .put("/api/registry/tenants/x509-revoke/crls").then().statusCode(403);
        // Setting the tenant's CAs again keeps their lists.
        trust("x509-revoke", revokeCa);
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, refusedWith(compromised));

        // Taken away, the list no longer counts.
        putCrls("x509-revoke").statusCode(204);
        connect(compromised, null, null).disconnect();
    }

    @Test
    void trustedCasAreCheckedAndOnlyAdminsSetThem() throws Exception {
        setUpDemo();
        asAdmin().contentType("application/json").body("[{\"cert\":\"not a certificate\"},{}]")
                .put("/api/registry/tenants/demo/trusted-ca").then().statusCode(400)
                .contentType(containsString("application/problem+json"))
                .body("type", equalTo("https://doppel.dev/problems/invalid-trusted-ca"))
                .body("detail", containsString("trusted-ca 0: ")).body("detail", containsString("trusted-ca 1: "));
        // A device certificate is no CA.
        asAdmin().contentType("application/json")
                .body("[{\"cert\":" + KafkaProbe.JSON.writeValueAsString(Files.readString(Path.of(device + ".crt")))
                        + "}]")
                .put("/api/registry/tenants/demo/trusted-ca").then().statusCode(400)
                .body("detail", containsString("not a CA certificate"));
        // Hono's form, base64 DER, is taken too; but the demo CA's name belongs to demo.
        String der = java.util.Base64.getEncoder().encodeToString(read(demoCa.dir().resolve("ca")).getEncoded());
        asAdmin().contentType("application/json").body("[{\"cert\":\"" + der + "\"}]")
                .put("/api/registry/tenants/x509-elsewhere/trusted-ca").then().statusCode(409)
                .body("type", equalTo("https://doppel.dev/problems/trusted-ca-taken"));
        given().auth().oauth2(AccessFixtures.deviceAdmin()).contentType("application/json").body("[]")
                .put("/api/registry/tenants/demo/trusted-ca").then().statusCode(403);
        given().auth().oauth2(AccessFixtures.deviceAdmin()).get("/api/registry/tenants/demo/trusted-ca")
                .then().statusCode(200);
        // Nothing changed by the refused requests.
        connect(device, null, null).disconnect();
        asAdmin().contentType("application/json")
                .body("[{\"type\":\"x509-cert\",\"auth-id\":\"not a DN\",\"secrets\":[{}]},"
                        + "{\"type\":\"x509-cert\",\"auth-id\":\"CN=x\","
                        + "\"secrets\":[{\"pwd-plain\":\"long-enough\"}]}]")
                .put("/api/registry/credentials/demo/d-x509").then().statusCode(400)
                .body("type", equalTo("https://doppel.dev/problems/invalid-credentials"))
                .body("detail", containsString("RFC 2253")).body("detail", containsString("no secret"));
    }
}

package dev.doppel.connectivity.adapter.coap;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.junit.jupiter.api.Test;

/**
 * Hono's CoAP adapter against the real broker and registry, driven by libcoap's {@code coap-client}
 * (Debian's libcoap3-bin, OpenSSL build, DTLS with a pre-shared key) and by Eclipse Californium's
 * client where the test must read the response's options.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class CoapAdapterIT {

    private static final String COAP_CLIENT = "coap-client-openssl";

    @Inject
    CoapAdapter adapter;

    /** Registers a device with a DTLS pre-shared key equal to {@code key}'s UTF-8 bytes. */
    private static void register(String deviceId, String key) {
        String admin = RealInfrastructure.token("admin");
        given().auth().oauth2(admin).contentType("application/json").body("{\"enabled\":true}")
                .put("/api/registry/devices/demo/" + deviceId).then().statusCode(lessThan(300));
        given().auth().oauth2(admin).contentType("application/json")
                .body("[{\"type\":\"psk\",\"auth-id\":\"" + deviceId + "\",\"secrets\":[{\"key\":\""
                        + Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8)) + "\"}]}]")
                .put("/api/registry/credentials/demo/" + deviceId).then().statusCode(204);
    }

    private record Run(int exit, String output) {
    }

    /** Runs libcoap's client; its output is the response payload, or the error code and its text. */
    private static Run coapClient(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(COAP_CLIENT, "-B", "15"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "coap-client did not finish");
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }

    private String coaps(String path) {
        return "coaps://127.0.0.1:" + adapter.securePort() + path;
    }

    private String coap(String path) {
        return "coap://127.0.0.1:" + adapter.plainPort() + path;
    }

    @Test
    void aPskDeviceSendsTelemetryAndBadInputGetsCoapCodes() throws Exception {
        String key = "coap-1-secret-key-0001";
        register("coap-1", key);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            Run ok = coapClient("-u", "coap-1@demo", "-k", key, "-m", "POST", "-t", "application/json",
                    "-e", "{\"temperature\":21.5}", coaps("/telemetry"));
            assertEquals(0, ok.exit(), ok.output());
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(telemetry, x -> "demo:coap-1".equals(x.key()),
                    Duration.ofSeconds(10));
            assertNotNull(r, "no telemetry event: " + ok.output());
            TelemetryReceived t = KafkaProbe.read(r, TelemetryReceived.class);
            assertEquals(Map.of("temperature", 21.5), t.features().get("telemetry"));
            assertEquals("coap", t.transport());

            // The short form and a feature named in the query.
            assertEquals(0, coapClient("-u", "coap-1@demo", "-k", key, "-m", "POST", "-t", "application/json",
                    "-e", "{\"on\":true}", coaps("/t?feature=lamp")).exit());
            r = KafkaProbe.await(telemetry, x -> "demo:coap-1".equals(x.key())
                    && KafkaProbe.read(x, TelemetryReceived.class).features().containsKey("lamp"), Duration.ofSeconds(10));
            assertNotNull(r, "no telemetry for feature lamp");

            // A wrong key fails the DTLS handshake: nothing is sent.
            Run wrongKey = coapClient("-u", "coap-1@demo", "-k", "not-the-right-key-000", "-m", "POST",
                    "-t", "application/json", "-e", "{\"temperature\":99}", coaps("/telemetry"));
            assertTrue(wrongKey.exit() != 0 || !wrongKey.output().isEmpty(), "a wrong key looked accepted");
            assertNull(KafkaProbe.await(telemetry, x -> "demo:coap-1".equals(x.key())
                    && Double.valueOf(99).equals(KafkaProbe.read(x, TelemetryReceived.class).features()
                            .get("telemetry").get("temperature")), Duration.ofSeconds(3)),
                    "telemetry sent with a wrong key arrived");
        }
        assertTrue(coapClient("-u", "coap-1@demo", "-k", key, "-m", "POST", "-t", "application/json",
                "-e", "{\"temperature\":", coaps("/telemetry")).output().startsWith("4.00"));
        assertTrue(coapClient("-u", "coap-1@demo", "-k", key, "-m", "POST", "-t", "text/plain",
                "-e", "hot", coaps("/telemetry")).output().startsWith("4.15"));
        assertTrue(coapClient("-u", "coap-1@demo", "-k", key, "-m", "POST", coaps("/telemetry")).output()
                .startsWith("4.00"), "an empty request without ?empty is refused");
        assertTrue(coapClient("-u", "coap-1@demo", "-k", key, "-m", "POST", "-t", "application/json",
                "-e", "{}", coaps("/telemetry?hono-ttd=soon")).output().startsWith("4.00"));
        // Speaking for another device needs a gateway relation it does not have.
        assertTrue(coapClient("-u", "coap-1@demo", "-k", key, "-m", "PUT", "-t", "application/json",
                "-e", "{}", coaps("/telemetry/demo/someone-else")).output().startsWith("4.03"));
    }

    @Test
    void withoutDtlsOnlyTheNamedFormWorksAndOnlyForRegisteredDevices() throws Exception {
        register("coap-2", "coap-2-secret-key-0002");
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> events = kafka.subscribe(Topics.DEVICE_EVENTS)) {
            Run ok = coapClient("-m", "PUT", "-t", "application/json", "-e", "{\"door\":\"open\"}",
                    coap("/event/demo/coap-2"));
            assertEquals("", ok.output());
            assertNotNull(KafkaProbe.await(events, x -> "demo:coap-2".equals(x.key()), Duration.ofSeconds(10)),
                    "no event");
        }
        assertTrue(coapClient("-m", "PUT", "-t", "application/json", "-e", "{}",
                coap("/telemetry/demo/not-registered")).output().startsWith("4.04"));
        assertTrue(coapClient("-m", "POST", "-t", "application/json", "-e", "{}", coap("/telemetry")).output()
                .startsWith("4.01"), "without DTLS the device must be named");
    }

    @Test
    void aWaitingDeviceGetsItsCommandWithHonoOptionsAndAnswersIt() throws Exception {
        String key = "coap-3-secret-key-0003";
        register("coap-3", key);
        Configuration cf = Configuration.createStandardWithoutFile().set(DtlsConfig.DTLS_ROLE,
                DtlsConfig.DtlsRole.CLIENT_ONLY);
        DtlsConnectorConfig dtls = DtlsConnectorConfig.builder(cf)
                .setAdvancedPskStore(new AdvancedSinglePskStore("coap-3@demo", key.getBytes(StandardCharsets.UTF_8)))
                .build();
        CoapEndpoint endpoint = new CoapEndpoint.Builder().setConfiguration(cf)
                .setConnector(new DTLSConnector(dtls)).build();
        CoapClient client = new CoapClient(coaps("/telemetry?hono-ttd=20"));
        client.setEndpoint(endpoint);
        client.setTimeout(30_000L);
        try (KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> connections = kafka.subscribe(Topics.DEVICE_CONNECTIONS);
                KafkaConsumer<String, byte[]> statuses = kafka.subscribe(Topics.COMMAND_STATUS)) {
            CompletableFuture<CoapResponse> polling = CompletableFuture.supplyAsync(() -> {
                try {
                    return client.post("{\"temperature\":20}", MediaTypeRegistry.APPLICATION_JSON);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertNotNull(KafkaProbe.await(connections, x -> "demo:coap-3".equals(x.key())
                    && KafkaProbe.read(x, DeviceConnectionChanged.class).ttd() == 20, Duration.ofSeconds(10)),
                    "no ttd announced");
            String id = UUID.randomUUID().toString();
            kafka.sendEvent(Topics.COMMANDS, "demo:coap-3", EventTypes.COMMAND_REQUESTED, "/test",
                    new CommandRequested(id, "demo:coap-3", "switch", "application/json",
                            "{\"on\":true}".getBytes(StandardCharsets.UTF_8), true, Instant.now(),
                            Instant.now().plusSeconds(30), null));
            CoapResponse answer = polling.get(30, TimeUnit.SECONDS);
            assertNotNull(answer, "no response");
            assertEquals(ResponseCode.CONTENT, answer.getCode());
            assertEquals("{\"on\":true}", answer.getResponseText());
            assertEquals(MediaTypeRegistry.APPLICATION_JSON, answer.getOptions().getContentFormat());
            assertEquals(List.of("hono-command=switch"), answer.getOptions().getLocationQuery());
            assertEquals(List.of("command_response", id), answer.getOptions().getLocationPath());
            assertNotNull(KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.DELIVERED;
            }, Duration.ofSeconds(10)), "the device's acknowledgement is the command's DELIVERED");

            // The answer goes where location-path said, with libcoap's client.
            Run answered = coapClient("-u", "coap-3@demo", "-k", key, "-m", "POST", "-t", "application/json",
                    "-e", "{\"switched\":true}", coaps("/command_response/" + id + "?hono-cmd-status=200"));
            assertEquals("", answered.output());
            assertNotNull(KafkaProbe.await(statuses, x -> {
                CommandStatusChanged s = KafkaProbe.read(x, CommandStatusChanged.class);
                return id.equals(s.commandId()) && s.status() == CommandStatus.SUCCEEDED;
            }, Duration.ofSeconds(10)), "the answer was not reported");
            assertTrue(coapClient("-u", "coap-3@demo", "-k", key, "-m", "POST", "-e", "{}",
                    coaps("/command_response/" + id + "?hono-cmd-status=200")).output().startsWith("4.04"),
                    "a command is answered once");
            assertTrue(coapClient("-u", "coap-3@demo", "-k", key, "-m", "POST", "-e", "{}",
                    coaps("/command_response/" + id)).output().startsWith("4.00"), "the status is required");
        } finally {
            client.shutdown();
            endpoint.destroy();
        }
    }
}

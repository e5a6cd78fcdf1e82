package dev.doppel.systemtests;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Provisioner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Nothing a device was told was accepted is lost when any part of the system crashes under load.
 * Real MQTT devices (Paho, QoS 1) report a rising sequence number without pause while twin-service,
 * connectivity-service, command-service and then the Kafka broker are each killed with SIGKILL and
 * started again. Each crash is followed by new acknowledgements from every device (the system took
 * the load up again), and at the end every twin holds at least the last value its device saw
 * acknowledged with a PUBACK.
 */
class TelemetryDurabilityIT {

    private static final String PASSWORD = "durable-secret";
    private static final int DEVICES = 8;

    private static LocalSystem system;

    @BeforeAll
    static void startSystem() throws Exception {
        system = new LocalSystem(Files.createTempDirectory("doppel-telemetry-durable-"), LocalSystem.Layout.freePorts());
        system.startInfrastructure(null).startServices(LocalSystem.SERVICES, Map.of());
        Provisioner provisioner = new Provisioner(system.service("connectivity-service").baseUrl(),
                system.tokens().password("admin", "admin"));
        for (int d = 0; d < DEVICES; d++) {
            provisioner.device("demo", device(d), PASSWORD);
        }
    }

    @AfterAll
    static void stopSystem() {
        if (system != null) {
            system.close();
        }
    }

    private static String device(int d) {
        return "durable-" + d;
    }

    /** A device that publishes {"seq": n} with QoS 1, n rising, and reconnects whenever it loses the server. */
    private static final class Reporter implements Runnable {
        final String id;
        /** The last sequence number the server acknowledged with a PUBACK. */
        final AtomicLong acked = new AtomicLong();
        volatile boolean running = true;
        private long seq;

        Reporter(String id) {
            this.id = id;
        }

        @Override
        public void run() {
            MqttClient client = null;
            while (running) {
                try {
                    if (client == null || !client.isConnected()) {
                        close(client);
                        client = PahoDevices.connect(system.mqttPort(), id, "demo", PASSWORD);
                    }
                    long next = ++seq;
                    // Returns once the PUBACK came: from then on the server owes this value to the twin.
                    client.publish("telemetry", ("{\"seq\":" + next + "}").getBytes(StandardCharsets.UTF_8), 1, false);
                    acked.set(next);
                } catch (MqttException e) {
                    close(client);
                    client = null;
                    pause();
                }
            }
            close(client);
        }

        private static void close(MqttClient client) {
            if (client == null) {
                return;
            }
            try {
                if (client.isConnected()) {
                    client.disconnectForcibly(1000);
                }
                client.close(true);
            } catch (MqttException ignored) {
                // the connection is gone already
            }
        }

        private static void pause() {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    interface Crash {
        void run() throws Exception;
    }

    @Test
    void everyTwinHoldsTheLastAcknowledgedReportAfterEachPartIsKilled() throws Exception {
        List<Reporter> reporters = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int d = 0; d < DEVICES; d++) {
            Reporter r = new Reporter(device(d));
            reporters.add(r);
            threads.add(Thread.ofPlatform().name("reporter-" + d).start(r));
        }
        try {
            awaitProgress(reporters, "before any crash");
            Map<String, Crash> crashes = new java.util.LinkedHashMap<>();
            for (String service : LocalSystem.SERVICES) {
                crashes.put(service, () -> system.restartService(service, true));
            }
            crashes.put("the Kafka broker", () -> system.restartKafka());
            for (Map.Entry<String, Crash> crash : crashes.entrySet()) {
                crash.getValue().run();
                awaitProgress(reporters, "after " + crash.getKey() + " was killed and started again");
            }
        } finally {
            reporters.forEach(r -> r.running = false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }

        String admin = system.tokens().password("admin", "admin");
        String twins = system.service("twin-service").baseUrl();
        for (Reporter r : reporters) {
            long last = r.acked.get();
            await(r.id + " holds its last acknowledged report " + last).atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                        long held = given().auth().oauth2(admin)
                                .get(twins + "/api/2/things/demo:" + r.id + "/features/telemetry/properties/seq")
                                .then().statusCode(200).extract().as(Long.class);
                        assertTrue(held >= last, r.id + " holds " + held + ", its device was told " + last
                                + " was accepted");
                    });
        }
    }

    /**
     * A device is told its report was accepted only once Kafka has it: with the broker down, an MQTT
     * publish gets no PUBACK and an HTTP report no 202, and both are taken again once it is back. Each
     * refusal is checked after the same request was acknowledged with the broker up.
     */
    @Test
    void nothingIsAcknowledgedWhileKafkaIsDown() throws Exception {
        String device = "outage-1";
        new Provisioner(system.service("connectivity-service").baseUrl(), system.tokens().password("admin", "admin"))
                .device("demo", device, PASSWORD);
        HttpClient http = HttpClient.newHttpClient();
        MqttClient client = PahoDevices.connect(system.mqttPort(), device, "demo", PASSWORD);
        try {
            client.setTimeToWait(10_000);
            client.publish("telemetry", "{\"seq\":1}".getBytes(StandardCharsets.UTF_8), 1, false);
            assertEquals(202, postReport(http, device, 2).statusCode(), "the positive control over HTTP");

            system.killKafka();
            try {
                client.setTimeToWait(5_000);
                // No PUBACK: the wait runs out, or the server closes the connection so that the device retries.
                assertThrows(MqttException.class, () -> client.publish("telemetry",
                        "{\"seq\":3}".getBytes(StandardCharsets.UTF_8), 1, false), "a PUBACK with Kafka down");
                try {
                    int status = postReport(http, device, 4).statusCode();
                    assertTrue(status != 202 && status >= 500, "HTTP report with Kafka down answered " + status);
                } catch (java.net.http.HttpTimeoutException stillWaiting) {
                    // Not answered at all while the broker is down: not accepted either.
                }
            } finally {
                system.startKafka();
            }
            // While the producer reconnects a report may still wait past the client's timeout: not an answer yet.
            await("a report is acknowledged again once Kafka is back").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(500))
                    .ignoreException(java.net.http.HttpTimeoutException.class).until(() -> postReport(http, device, 5).statusCode() == 202);
        } finally {
            if (client.isConnected()) {
                client.disconnectForcibly(1000);
            }
            client.close(true);
        }
    }

    private static HttpResponse<String> postReport(HttpClient http, String device, int seq) throws Exception {
        String auth = java.util.Base64.getEncoder().encodeToString((device + "@demo:" + PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(URI.create(system.service("connectivity-service").baseUrl() + "/telemetry"))
                .header("Authorization", "Basic " + auth).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString("{\"seq\":" + seq + "}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Every device gets new reports acknowledged: the system has taken the load up (again). */
    private static void awaitProgress(List<Reporter> reporters, String when) {
        long[] before = reporters.stream().mapToLong(r -> r.acked.get()).toArray();
        await("every device acknowledged again " + when).atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(200)).until(() -> {
                    for (int d = 0; d < reporters.size(); d++) {
                        if (reporters.get(d).acked.get() <= before[d] + 5) {
                            return false;
                        }
                    }
                    return true;
                });
    }
}

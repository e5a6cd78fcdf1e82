package dev.doppel.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.devstack.testing.MosquittoBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/**
 * The local run's simulated fleet, against a real broker (Debian's mosquitto) that goes away and comes
 * back on the same port, as connectivity does when it restarts: the devices reconnect and take
 * commands again.
 */
class FleetSimulatorIT {

    @Test
    void devicesReconnectAndSubscribeToTheirCommandsAgainAfterTheBrokerRestarts() throws Exception {
        assertTrue(MosquittoBroker.installed(), "this test needs Debian's mosquitto and mosquitto-clients "
                + "(apt-get install mosquitto mosquitto-clients)");
        Path dir = Files.createTempDirectory("fleet-it-");
        String config = "allow_anonymous true\npersistence false\n";
        MosquittoBroker broker = MosquittoBroker.start(dir, config);
        int port = broker.port();
        try (FleetSimulator fleet = new FleetSimulator()) {
            fleet.start(broker.uri(), "demo", 2, "secret", 60_000);
            assertEquals(2, fleet.connected());
            // Positive control: before the restart, a command is answered.
            assertAnswered(broker, "before");

            broker.close();
            broker = MosquittoBroker.start(dir, config, port);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (fleet.connected() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertEquals(2, fleet.connected(), "the fleet did not reconnect to the broker that came back");
            // A clean session forgot the subscription: only a device that subscribed again answers.
            assertAnswered(broker, "after");
        } finally {
            broker.close();
        }
    }

    /** Sends a command as Hono's adapter would deliver it and waits for a device's answer. */
    private static void assertAnswered(MosquittoBroker broker, String requestId) throws Exception {
        BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        MqttClient watcher = new MqttClient(broker.uri(), "watcher-" + requestId, new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setCleanSession(true);
        watcher.connect(options);
        try {
            watcher.subscribe("command///res/#", 1, (topic, message) -> answers.add(topic));
            // The devices may still be subscribing right after a reconnect: ask until one answers.
            String answer = null;
            for (int i = 0; i < 30 && answer == null; i++) {
                broker.publish("command///req/" + requestId + "/switch", "{\"on\":true}");
                answer = answers.poll(1, TimeUnit.SECONDS);
            }
            assertEquals("command///res/" + requestId + "/200", answer, "no device answered command " + requestId);
        } finally {
            watcher.disconnect();
            watcher.close();
        }
    }
}

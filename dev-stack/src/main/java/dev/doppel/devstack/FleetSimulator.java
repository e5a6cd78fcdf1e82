package dev.doppel.devstack;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * A fleet of simulated IoT sensors: each is a real MQTT client (Eclipse Paho) that logs in with its
 * registry credentials, publishes temperature and humidity every few seconds (QoS 1), and answers
 * every command it receives with 200 and a small JSON body.
 */
public final class FleetSimulator implements AutoCloseable {

    private final List<MqttClient> clients = new ArrayList<>();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "fleet-simulator");
        t.setDaemon(true);
        return t;
    });

    /** Where Hono's MQTT adapter delivers a device's commands. */
    static final String COMMANDS = "command///req/#";
    static final int RECONNECT_DELAY_MAX_MILLIS = 5_000;

    public static String deviceId(int i) {
        return String.format(Locale.ROOT, "sim-%03d", i);
    }

    public void start(String mqttUri, String tenant, int devices, String password, long periodMillis)
            throws MqttException {
        for (int i = 1; i <= devices; i++) {
            String deviceId = deviceId(i);
            MqttClient client = new MqttClient(mqttUri, deviceId, new MemoryPersistence());
            MqttConnectOptions options = new MqttConnectOptions();
            options.setUserName(deviceId + "@" + tenant);
            options.setPassword(password.toCharArray());
            options.setAutomaticReconnect(true);
            // Paho backs off up to 128 s by default: after connectivity restarts, most of the fleet
            // stayed silent for minutes. A sensor that comes back within seconds is what users expect.
            options.setMaxReconnectDelay(RECONNECT_DELAY_MAX_MILLIS);
            options.setCleanSession(true);
            options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            client.setCallback(new Answerer(client));
            client.connect(options);
            client.subscribe(COMMANDS, 1);
            clients.add(client);
            double base = 18 + ThreadLocalRandom.current().nextDouble(6);
            scheduler.scheduleAtFixedRate(() -> publish(client, base), ThreadLocalRandom.current().nextLong(periodMillis),
                    periodMillis, TimeUnit.MILLISECONDS);
        }
    }

    private static void publish(MqttClient client, double base) {
        if (!client.isConnected()) {
            return;
        }
        ThreadLocalRandom r = ThreadLocalRandom.current();
        String json = String.format(Locale.ROOT, "{\"temperature\":%.2f,\"humidity\":%.1f}",
                base + r.nextGaussian() * 0.3, 40 + r.nextDouble(20));
        try {
            client.publish("telemetry", json.getBytes(StandardCharsets.UTF_8), 1, false);
        } catch (MqttException e) {
            // automatic reconnect takes over; the next period publishes again
        }
    }

    /** Answers {@code command///req/{req-id}/{subject}} on {@code command///res/{req-id}/200}. */
    private record Answerer(MqttClient client) implements MqttCallbackExtended {

        /** A clean session forgets subscriptions: after a reconnect the device subscribes again. */
        @Override
        public void connectComplete(boolean reconnect, String serverUri) {
            if (!reconnect) {
                return;
            }
            // From another thread: Paho forbids blocking calls inside its callbacks.
            Thread.ofVirtual().start(() -> {
                try {
                    client.subscribe(COMMANDS, 1);
                } catch (MqttException e) {
                    // lost again: the next reconnect subscribes
                }
            });
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            String[] s = topic.split("/", -1);
            if (s.length < 6 || s[4].isEmpty()) {
                return; // one-way command: nothing to answer
            }
            String body = "{\"accepted\":\"" + s[5] + "\"}";
            // Answer from another thread: Paho forbids publishing from inside its callback.
            Thread.ofVirtual().start(() -> {
                try {
                    client.publish("command///res/" + s[4] + "/200", body.getBytes(StandardCharsets.UTF_8), 1, false);
                } catch (MqttException e) {
                    // the command times out on the service side, which is what a real device would cause
                }
            });
        }

        @Override
        public void connectionLost(Throwable cause) {
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }
    }

    public int connected() {
        return (int) clients.stream().filter(MqttClient::isConnected).count();
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        for (MqttClient c : clients) {
            try {
                if (c.isConnected()) {
                    c.disconnect(1000);
                }
                c.close();
            } catch (MqttException e) {
                // closing anyway
            }
        }
    }
}

package dev.doppel.connectivity.testing;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/** A device on Eclipse Paho's MQTT 5 client, as the tests connect one: a password login, no reconnect. */
public final class Mqtt5Devices {

    public static final long WAIT_MS = 10_000;

    private Mqtt5Devices() {
    }

    /** Connects {@code username} ({@code auth-id@tenant}) to the adapter's plain port; {@code callback} may be null. */
    public static MqttAsyncClient connect(int port, String username, String password, MqttCallback callback)
            throws MqttException {
        MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:" + port, username.replace('@', '-') + "-"
                + UUID.randomUUID(), new MemoryPersistence());
        if (callback != null) {
            client.setCallback(callback);
        }
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setUserName(username);
        o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        o.setAutomaticReconnect(false);
        client.connect(o).waitForCompletion(WAIT_MS);
        return client;
    }

    /** Publishes at QoS 1 and returns the PUBACK's reason code. */
    public static int publish(MqttAsyncClient client, String topic, String payload) throws MqttException {
        MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        IMqttToken t = client.publish(topic, m);
        t.waitForCompletion(WAIT_MS);
        return t.getReasonCodes()[0];
    }
}

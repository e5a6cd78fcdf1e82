package dev.doppel.systemtests;

import java.util.UUID;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** Devices of the system tests: Eclipse Paho clients logged in as {@code device@tenant}. */
final class PahoDevices {

    private PahoDevices() {
    }

    static MqttClient connect(int port, String deviceId, String tenant, String password) throws MqttException {
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + port, deviceId + "-" + UUID.randomUUID(),
                new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName(deviceId + "@" + tenant);
        o.setPassword(password.toCharArray());
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        client.setTimeToWait(10_000);
        client.connect(o);
        return client;
    }
}

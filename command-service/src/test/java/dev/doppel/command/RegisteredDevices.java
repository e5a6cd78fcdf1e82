package dev.doppel.command;

import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.RealInfrastructure;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The device registry as command-service sees it: registrations on {@code dt.devices} of the test broker,
 * written as connectivity writes them. Each call returns once the broker acknowledged the record.
 */
public final class RegisteredDevices {

    private static KafkaProbe kafka;
    private static String bootstrap;

    private RegisteredDevices() {
    }

    public static void register(String... thingIds) {
        for (String thingId : thingIds) {
            lifecycle(thingId, true);
        }
    }

    /** The registry deleted the device ({@code registered=false}). */
    public static void deregister(String thingId) {
        lifecycle(thingId, false);
    }

    /** A tombstone: what compaction leaves of a device that is gone. */
    public static void tombstone(String thingId) {
        probe().sendRaw(Topics.DEVICES, thingId, null, List.of());
    }

    private static void lifecycle(String thingId, boolean registered) {
        probe().sendEvent(Topics.DEVICES, thingId, EventTypes.DEVICE_LIFECYCLE_CHANGED, "/connectivity/registry",
                new DeviceLifecycleChanged(UUID.randomUUID().toString(), thingId, registered, Instant.now()));
    }

    /** One producer for the test run; a new one if the test infrastructure was restarted. */
    private static synchronized KafkaProbe probe() {
        String current = RealInfrastructure.kafkaBootstrapServers();
        if (kafka == null || !current.equals(bootstrap)) {
            if (kafka != null) {
                kafka.close();
            }
            kafka = new KafkaProbe(current);
            bootstrap = current;
        }
        return kafka;
    }
}

package dev.doppel.twin.testing;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** Device reports as connectivity-service puts them on the broker, for twin-service's tests. */
public final class Reports {

    private Reports() {
    }

    /** A report of the {@code telemetry} feature's properties, true at {@code at}. */
    public static TelemetryReceived telemetry(String thingId, Map<String, Object> props, Instant at) {
        return TelemetryReceived.of(UUID.randomUUID().toString(), ThingId.parse(thingId), "telemetry",
                Map.of("telemetry", props), null, at, "mqtt");
    }

    /** Puts the report on {@code dt.device-telemetry}, keyed by its thing id. */
    public static void send(KafkaProbe kafka, TelemetryReceived report) {
        kafka.sendEvent(Topics.DEVICE_TELEMETRY, report.thingId(), report.type(), "/connectivity/mqtt", report);
    }
}

package dev.doppel.connectivity.limits;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.connectivity.config.TwinRoomConfig;
import dev.doppel.connectivity.mapping.MappedReport;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinRoom;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a connectivity instance makes of twin-service's notices: the keys a report adds, against the room. */
class TwinRoomsTest {

    private static final ThingId SENSOR = ThingId.parse("demo:sensor");

    private static TwinRooms rooms(int maxTwins, int maxKeys) {
        TwinRoomConfig config = new TwinRoomConfig() {
            @Override
            public Duration ttl() {
                return Duration.ofMinutes(10);
            }

            @Override
            public int maxTwins() {
                return maxTwins;
            }

            @Override
            public int maxKeys() {
                return maxKeys;
            }
        };
        return new TwinRooms(config, new ObjectMapper(), new RefusalLog(Duration.ofMinutes(1)),
                new SimpleMeterRegistry());
    }

    private static TwinRoom full(String thingId, long room) {
        return new TwinRoom("n", thingId, room, List.of("owner"), Map.of("telemetry", List.of("temperature")),
                Instant.now());
    }

    private static MappedReport telemetry(Map<String, Object> properties) {
        return new MappedReport(Map.of("telemetry", properties), Map.of());
    }

    @Test
    void onlyTheBytesOfNewKeysCountAgainstTheRoom() {
        TwinRooms rooms = rooms(10, 1000);
        rooms.told(full("demo:sensor", 20));
        // "temperature" is the twin's: however long its new value, it is not judged here.
        assertNull(rooms.refusal(SENSOR, telemetry(Map.of("temperature", "x".repeat(500)))));
        assertNull(rooms.refusal(SENSOR, new MappedReport(Map.of(), Map.of("owner", "y".repeat(500)))));
        // "k":"xxxxxxxxxx" is 16 bytes: fits in 20, and then is the twin's.
        assertNull(rooms.refusal(SENSOR, telemetry(Map.of("k", "x".repeat(10)))));
        assertNull(rooms.refusal(SENSOR, telemetry(Map.of("k", "x".repeat(100)))));
        // 4 bytes left: a new key of 16 does not fit, in a known feature or a new one.
        assertNotNull(rooms.refusal(SENSOR, telemetry(Map.of("j", "x".repeat(10)))));
        assertNotNull(rooms.refusal(SENSOR, new MappedReport(Map.of("lamp", Map.of()), Map.of())));
        // Another twin is not judged at all.
        assertNull(rooms.refusal(ThingId.parse("demo:other"), telemetry(Map.of("j", "x".repeat(1000)))));
    }

    @Test
    void anOpenNoticeForgetsTheTwin() {
        TwinRooms rooms = rooms(10, 1000);
        rooms.told(full("demo:sensor", 0));
        assertNotNull(rooms.refusal(SENSOR, telemetry(Map.of("j", 1))));
        rooms.told(new TwinRoom("n2", "demo:sensor", 200_000, null, null, Instant.now()));
        assertNull(rooms.refusal(SENSOR, telemetry(Map.of("j", 1))));
    }

    @Test
    void whatIsRememberedIsBoundedInTwinsAndKeys() {
        TwinRooms rooms = rooms(2, 1000);
        rooms.told(full("demo:a", 0));
        rooms.told(full("demo:b", 0));
        rooms.told(full("demo:sensor", 0));
        // The third twin did not fit with the two before: they are forgotten, it is kept.
        assertNull(rooms.refusal(ThingId.parse("demo:a"), telemetry(Map.of("j", 1))));
        assertNotNull(rooms.refusal(SENSOR, telemetry(Map.of("j", 1))));

        TwinRooms fewKeys = rooms(10, 5);
        fewKeys.told(full("demo:a", 0)); // 3 keys: owner, telemetry, its temperature
        fewKeys.told(full("demo:sensor", 0));
        assertNull(fewKeys.refusal(ThingId.parse("demo:a"), telemetry(Map.of("j", 1))));
        assertNotNull(fewKeys.refusal(SENSOR, telemetry(Map.of("j", 1))));
    }
}

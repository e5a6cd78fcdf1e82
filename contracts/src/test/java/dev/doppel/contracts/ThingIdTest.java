package dev.doppel.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ThingIdTest {

    @Test
    void parsesTenantAndDevice() {
        ThingId id = ThingId.parse("demo:sensor-1");
        assertEquals("demo", id.tenant());
        assertEquals("sensor-1", id.deviceId());
        assertEquals("demo:sensor-1", id.toString());
    }

    @Test
    void rejectsIdsThatWouldBreakTopicsOrDocumentKeys() {
        for (String bad : new String[] {"demo", ":x", "demo:", "de mo:x", "demo:a/b", "demo:a+b", "demo:a#",
                "demo:$x", "1demo:x", "demo:a:b"}) {
            assertFalse(ThingId.isValid(bad), bad);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThingId.parse("demo"));
        assertTrue(e.getMessage().contains("{tenant}:{deviceId}"));
    }
}

package dev.doppel.twin.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.ThingId;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TwinTest {

    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00.000001Z");
    private final Twin twin = Twin.empty(ThingId.parse("demo:s1"), T0);

    @Test
    void firstReportCreatesRevisionOneWithTheValues() {
        Map<String, Object> changes = twin.applyReported(Map.of("telemetry", Map.of("temperature", 21.5)), Map.of(),
                T0, T0);
        assertEquals(Map.of("features/telemetry/properties/temperature", 21.5), changes);
        assertEquals(1, twin.revision());
        assertEquals(21.5, twin.features().get("telemetry").properties().get("temperature"));
    }

    @Test
    void olderReportNeverOverwritesNewerValueButOtherPropertiesStillApply() {
        twin.applyReported(Map.of("telemetry", Map.of("temperature", 25.0)), Map.of(), T0.plusSeconds(10), T0);
        Map<String, Object> changes = twin.applyReported(
                Map.of("telemetry", Map.of("temperature", 10.0, "humidity", 40)), Map.of(), T0.plusSeconds(5), T0);
        assertEquals(Map.of("features/telemetry/properties/humidity", 40), changes);
        assertEquals(25.0, twin.features().get("telemetry").properties().get("temperature"));
        assertEquals(2, twin.revision());
    }

    @Test
    void redeliveredReportChangesNothingNotEvenTheRevision() {
        twin.applyReported(Map.of("telemetry", Map.of("temperature", 25.0)), Map.of("site", "a"), T0, T0);
        Map<String, Object> changes = twin.applyReported(Map.of("telemetry", Map.of("temperature", 25.0)),
                Map.of("site", "a"), T0, T0.plusSeconds(1));
        assertTrue(changes.isEmpty());
        assertEquals(1, twin.revision());
        assertEquals(T0, twin.modified());
    }

    @Test
    void validatorRejectsKeysThatWouldBecomeMongoOperatorsOrPaths() {
        for (String bad : new String[] {"$where", "a.b", "a/b", "", "with space"}) {
            InvalidReport e = assertThrows(InvalidReport.class, () -> ReportValidator.normalise(Map.of(bad, 1)), bad);
            assertEquals("invalid-key", e.reason());
        }
        assertThrows(InvalidReport.class, () -> ReportValidator.normalise(Map.of("ok", Map.of("$set", 1))));
    }
}

package dev.doppel.twin.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.doppel.contracts.ThingId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TwinTreeTest {

    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
    private static final Instant T1 = T0.plusSeconds(60);

    @Test
    void mergePatchFollowsRfc7396() {
        Object target = Map.of("a", "b", "c", Map.of("d", "e", "f", "g"), "list", List.of(1, 2));
        Object patch = new java.util.HashMap<>(Map.of("a", "z", "c", new java.util.HashMap<>(Map.of("f", "h")),
                "list", List.of(3)));
        ((Map<String, Object>) ((Map<String, Object>) patch).get("c")).put("d", null);
        assertEquals(Map.of("a", "z", "c", Map.of("f", "h"), "list", List.of(3)), TwinTree.mergePatch(target, patch));
        assertEquals("scalar", TwinTree.mergePatch(Map.of("x", 1), "scalar"));
    }

    @Test
    void valuesThatDidNotChangeKeepTheirTimeChangedOnesGetTheWriteTime() {
        Twin twin = Twin.empty(ThingId.parse("demo:t"), T0);
        twin.applyReported(Map.of("f", Map.of("a", 1, "b", 2)), Map.of(), T0, T0);
        Map<String, Object> tree = TwinTree.of(twin);
        TwinTree.put(tree, TwinPath.parse("features/f/properties/b"), 3);
        TwinTree.put(tree, TwinPath.parse("features/f/desiredProperties/a"), 5);
        Twin next = TwinTree.toTwin(tree, twin, T1);
        assertEquals(T0, next.features().get("f").propertyTimes().get("a"));
        assertEquals(T1, next.features().get("f").propertyTimes().get("b"));
        assertEquals(T1, next.features().get("f").desiredTimes().get("a"));
        assertEquals(2, next.revision());
        assertEquals(Map.of("f", Map.of("a", 5)), next.delta());
    }

    @Test
    void pathsOutsideATwinAreRefused() {
        for (String bad : new String[] {"foo", "definition/x", "features/f/colour", "features/f/definition/x",
                "attributes//x", "attributes/a.b", "features/$f"}) {
            assertThrows(InvalidReport.class, () -> TwinPath.parse(bad), bad);
        }
        assertEquals(TwinPath.Kind.DESIRED, TwinPath.parse("features/f/desiredProperties/x/y").kind());
    }
}

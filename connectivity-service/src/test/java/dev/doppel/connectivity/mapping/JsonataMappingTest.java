package dev.doppel.connectivity.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonataMappingTest {

    private final ObjectMapper json = new ObjectMapper();
    private final DefaultPayloadMapper defaults = new DefaultPayloadMapper(json);
    private final JsonataMapping.Message telemetry = new JsonataMapping.Message("demo", "meter-7", "telemetry",
            "application/json", null);

    private MappedReport run(String expression, String payload, JsonataMapping.Message message) throws MappingException {
        return JsonataMapping.compile(expression, Duration.ofMillis(200), 100)
                .apply(payload.getBytes(StandardCharsets.UTF_8), message, json, defaults);
    }

    @Test
    void aVendorPayloadBecomesAPartialTwin() throws MappingException {
        MappedReport r = run("""
                {"features": {"power": {"properties": {"watts": p.w, "volts": p.v / 10}}},
                 "attributes": {"firmware": fw, "reportedBy": $deviceId}}""",
                "{\"p\":{\"w\":1200,\"v\":2301},\"fw\":\"1.4.2\"}", telemetry);
        assertEquals(Map.of("watts", 1200, "volts", 230.1), r.features().get("power"));
        assertEquals(Map.of("firmware", "1.4.2", "reportedBy", "meter-7"), r.attributes());
    }

    @Test
    void aPlainObjectGoesToTheMessagesFeature() throws MappingException {
        MappedReport r = run("{\"celsius\": (f - 32) * 5 / 9}", "{\"f\":212}",
                new JsonataMapping.Message("demo", "t-1", "telemetry", "application/json", "climate"));
        assertEquals(Map.of("climate", Map.of("celsius", 100)), r.features());
    }

    @Test
    void binaryPayloadsArriveAsBase64() throws MappingException {
        MappedReport r = run("""
                ($parts := $split($base64decode($), ",");
                 {"temperature": $number($parts[0]), "humidity": $number($parts[1])})""",
                "21.5,40", new JsonataMapping.Message("demo", "t-1", "telemetry", "text/plain", null));
        assertEquals(Map.of("temperature", 21.5, "humidity", 40), r.features().get("telemetry"));
    }

    @Test
    void endlessRecursionIsCutOff() {
        MappingException e = assertThrows(MappingException.class,
                () -> run("($f := function($x) { $f($x + 1) }; $f(0))", "{}", telemetry));
        assertEquals("mapping-timeout", e.reason());
    }

    @Test
    void aLongLoopIsCutOffByTime() {
        MappingException e = assertThrows(MappingException.class, () -> run(
                "($loop := function($i) { $i < 100000000 ? $loop($i + 1) : $i }; {\"n\": $loop(0)})", "{}",
                new JsonataMapping.Message("demo", "t-1", "telemetry", "application/json", null)));
        assertEquals("mapping-timeout", e.reason());
    }

    @Test
    void badExpressionsAndResultsAreNamed() {
        assertEquals("invalid-mapping", assertThrows(MappingException.class,
                () -> JsonataMapping.compile("{\"a\": ", Duration.ofMillis(100), 100)).reason());
        assertEquals("not-an-object", assertThrows(MappingException.class, () -> run("42", "{}", telemetry)).reason());
        assertEquals("mapping-empty", assertThrows(MappingException.class, () -> run("nothing", "{}", telemetry))
                .reason());
        assertEquals("malformed-json", assertThrows(MappingException.class, () -> run("$", "{", telemetry)).reason());
        MappingException thrown = assertThrows(MappingException.class,
                () -> run("$error(\"no reading\")", "{}", telemetry));
        assertEquals("mapping-failed", thrown.reason());
        assertTrue(thrown.getMessage().contains("no reading"), thrown.getMessage());
        assertEquals("invalid-key", assertThrows(MappingException.class,
                () -> run("{\"bad/key\": 1}", "{}", telemetry)).reason());
    }
}

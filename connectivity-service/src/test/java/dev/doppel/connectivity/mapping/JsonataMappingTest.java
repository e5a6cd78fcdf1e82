package dev.doppel.connectivity.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
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
        // A tail call does not deepen the stack: whichever comes first, its time or its memory, ends it.
        assertTrue(e.reason().equals("mapping-timeout") || e.reason().equals("mapping-too-large"), e.reason());
    }

    @Test
    void aLongLoopIsCutOffByTime() {
        // A 10 ms limit: the loop allocates as it goes, and on a fast machine it reached the 64 MB
        // bound (mapping-too-large) within the 200 ms the other tests allow before the time ran out.
        MappingException e = assertThrows(MappingException.class, () -> JsonataMapping.compile(
                "($loop := function($i) { $i < 100000000 ? $loop($i + 1) : $i }; {\"n\": $loop(0)})",
                Duration.ofMillis(10), 100).apply("{}".getBytes(StandardCharsets.UTF_8),
                new JsonataMapping.Message("demo", "t-1", "telemetry", "application/json", null), json, defaults));
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

    /** Fails a test that would otherwise hang for hours (the bounds below missing), instead of the build. */
    private String refused(String expression, String payload) {
        MappingException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(MappingException.class,
                () -> run(expression, payload, telemetry)));
        return e.reason() + ": " + e.getMessage();
    }

    private static void assertStartsWith(String prefix, String actual) {
        assertTrue(actual.startsWith(prefix), actual);
    }

    @Test
    void aBacktrackingRegularExpressionIsCutOffInsideEachBuiltIn() {
        // (.*a){14}$ against 40 a's and a "!" tries every way of cutting the a's into 14 before it fails
        // (Java's engine shortcuts the textbook (a+)+$; 12 repeats on 27 characters took 1.6 s).
        String payload = "{\"s\":\"" + "a".repeat(40) + "!\"}";
        String re = "/(.*a){14}$/";
        for (String call : new String[] {"$match(s, " + re + ")", "$replace(s, " + re + ", \"x\")",
                "$split(s, " + re + ")", "$contains(s, " + re + ")", "$replace(s, " + re + ", function($m) { \"x\" })"}) {
            assertTrue(refused("{\"v\": " + call + "}", payload).startsWith("mapping-timeout: "), call);
        }
    }

    @Test
    void theRegularExpressionBuiltInsStillGiveTheLibrarysResults() throws MappingException {
        MappedReport r = run("""
                {"matches": $count($match(s, /\\d+/)), "second": $match(s, /\\d+/)[1].match,
                 "replaced": $replace(s, /\\d+/, "#"), "first": $replace(s, "b", "B", 1),
                 "parts": $join($split(s, /\\d+/), "|"), "has": $contains(s, /b\\d/), "text": $contains(s, "zz"),
                 "padded": $pad("x", -3, "0")}""", "{\"s\":\"a1b22b3\"}", telemetry);
        assertEquals(Map.of("matches", 3, "second", "22", "replaced", "a#b#b#", "first", "a1B22b3",
                "parts", "a|b|b|", "has", true, "text", false, "padded", "00x"), r.features().get("telemetry"));
    }

    @Test
    void whatWouldFillTheHeapIsRefusedBeforeOrWhileItIsMade() {
        assertStartsWith("mapping-too-large: ", refused("{\"v\": $pad(\"x\", 2000000000)}", "{}"));
        // Text doubled 40 times: a terabyte, refused once the evaluation has allocated its share.
        assertStartsWith("mapping-too-large: ", refused(
                "{\"v\": $length($reduce([1..40], function($a, $i) { $a & $a }, \"xxxxxxxx\"))}", "{}"));
        // One step: every character of a 200,000-character text replaced by itself 1,000 times.
        assertStartsWith("mapping-too-large: ", refused("""
                ($big := $pad("", 1000, "y"); {"v": $length($replace(s, "a", $big))})""",
                "{\"s\":\"" + "a".repeat(200_000) + "\"}"));
        assertStartsWith("mapping-failed: ", refused("{\"v\": $eval(\"1 + 1\")}", "{}"));
    }
}

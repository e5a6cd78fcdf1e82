package dev.doppel.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ProblemJsonTest {

    private static JsonNode json(Problem p) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        return mapper.readTree(mapper.writeValueAsString(p));
    }

    @Test
    void aProblemIsBothAnRfc9457ProblemAndADittoError() throws Exception {
        JsonNode j = json(Problem.of("thing-not-found", "Thing not found", 404, "thing demo:x does not exist", "/x"));
        // RFC 9457
        assertEquals("https://doppel.dev/problems/thing-not-found", j.get("type").asText());
        assertEquals("Thing not found", j.get("title").asText());
        assertEquals(404, j.get("status").asInt());
        assertEquals("thing demo:x does not exist", j.get("detail").asText());
        assertEquals("/x", j.get("instance").asText());
        // Ditto
        assertEquals("things:thing.notfound", j.get("error").asText());
        assertEquals("thing demo:x does not exist", j.get("message").asText());
        assertEquals("Thing not found", j.get("description").asText());
    }

    @Test
    void kindsDittoDoesNotHaveAreNamedInOurOwnNamespace() throws Exception {
        JsonNode j = json(Problem.of("history-too-long", "History too long", 413, null, null));
        assertEquals("doppel:history-too-long", j.get("error").asText());
        assertEquals("History too long", j.get("message").asText());
        assertEquals("json.invalid", json(Problem.of("invalid-json", "Invalid JSON", 400, "x", null)).get("error").asText());
    }
}

package dev.doppel.twin.graphql;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.util.Map;

/** Between the twin's values (plain maps, as Jackson reads them) and GraphQL's JSON scalar (JSON-P). */
final class JsonValues {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonValues() {
    }

    static JsonObject toJson(Map<String, ?> map) {
        if (map == null) {
            return null;
        }
        try (var reader = Json.createReader(new StringReader(JSON.writeValueAsString(map)))) {
            return reader.readObject();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> fromJson(JsonObject json) {
        try {
            return JSON.readValue(json.toString(), Map.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }
}

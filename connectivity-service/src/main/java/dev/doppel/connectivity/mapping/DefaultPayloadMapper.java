package dev.doppel.connectivity.mapping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.PropertyKey;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The default mapping: a JSON object's members become properties of the feature named by the
 * message (default {@code telemetry}); a Ditto-style partial twin
 * ({@code {"features":{"f":{"properties":{...}}},"attributes":{...}}}) maps as it stands.
 */
@ApplicationScoped
public class DefaultPayloadMapper {

    public static final String DEFAULT_FEATURE = "telemetry";
    public static final String UNSUPPORTED_CONTENT_TYPE = "unsupported-content-type";
    private static final Set<String> PARTIAL_TWIN_KEYS = Set.of("features", "attributes", "thingId");
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private final ObjectMapper json;

    public DefaultPayloadMapper(ObjectMapper json) {
        this.json = json;
    }

    /**
     * Maps one message. {@code contentType} as the device declared it (null: JSON assumed);
     * {@code feature} as the message names it (null: {@value #DEFAULT_FEATURE}).
     */
    public MappedReport map(byte[] payload, String contentType, String feature) throws MappingException {
        if (contentType != null && !contentType.toLowerCase(Locale.ROOT).contains("json")) {
            throw new MappingException(UNSUPPORTED_CONTENT_TYPE, "content type " + contentType
                    + " has no mapping; send application/json");
        }
        JsonNode root;
        try {
            root = json.readTree(payload);
        } catch (IOException e) {
            throw new MappingException("malformed-json", "payload is not valid JSON");
        }
        return map(root, feature);
    }

    /**
     * Maps a JSON value (a payload, or what a custom mapping made of one): a Ditto-style partial
     * twin as it stands, any other object as the properties of {@code feature}.
     */
    public MappedReport map(JsonNode root, String feature) throws MappingException {
        String featureId = feature == null || feature.isEmpty() ? DEFAULT_FEATURE : feature;
        checkKey(featureId, "feature");
        if (root == null || !root.isObject()) {
            throw new MappingException("not-an-object", "payload must be a JSON object");
        }
        if (isPartialTwin(root)) {
            return partialTwin(root);
        }
        Map<String, Object> properties = toMap(root);
        checkKeys(properties, 1);
        return new MappedReport(Map.of(featureId, properties), Map.of());
    }

    private static boolean isPartialTwin(JsonNode root) {
        if (!root.has("features") && !root.has("attributes")) {
            return false;
        }
        for (var it = root.fieldNames(); it.hasNext();) {
            if (!PARTIAL_TWIN_KEYS.contains(it.next())) {
                return false;
            }
        }
        return (!root.has("features") || root.get("features").isObject())
                && (!root.has("attributes") || root.get("attributes").isObject());
    }

    private MappedReport partialTwin(JsonNode root) throws MappingException {
        Map<String, Map<String, Object>> features = new LinkedHashMap<>();
        if (root.has("features")) {
            for (var it = root.get("features").fields(); it.hasNext();) {
                var f = it.next();
                checkKey(f.getKey(), "feature");
                JsonNode props = f.getValue().path("properties");
                if (!f.getValue().isObject() || (!props.isMissingNode() && !props.isObject())) {
                    throw new MappingException("invalid-partial-twin",
                            "feature '" + f.getKey() + "' must be an object with an object 'properties'");
                }
                Map<String, Object> properties = props.isMissingNode() ? Map.of() : toMap(props);
                checkKeys(properties, 1);
                features.put(f.getKey(), properties);
            }
        }
        Map<String, Object> attributes = root.has("attributes") ? toMap(root.get("attributes")) : Map.of();
        checkKeys(attributes, 1);
        return new MappedReport(features, attributes);
    }

    private Map<String, Object> toMap(JsonNode node) throws MappingException {
        try {
            return json.treeToValue(node, json.getTypeFactory().constructType(MAP));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new MappingException("malformed-json", "payload is not valid JSON");
        }
    }

    @SuppressWarnings("unchecked")
    private static void checkKeys(Map<String, Object> map, int depth) throws MappingException {
        if (depth > 16) {
            throw new MappingException("too-deep", "payload nests deeper than 16 levels");
        }
        for (Map.Entry<String, Object> e : map.entrySet()) {
            checkKey(e.getKey(), "property");
            if (e.getValue() instanceof Map<?, ?> m) {
                checkKeys((Map<String, Object>) m, depth + 1);
            }
        }
    }

    private static void checkKey(String key, String what) throws MappingException {
        if (!PropertyKey.isValid(key)) {
            throw new MappingException("invalid-key", "invalid " + what + " name: " + PropertyKey.RULE);
        }
    }
}

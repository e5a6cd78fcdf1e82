package dev.doppel.twin.mapping;

import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.Twin;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.ditto.json.JsonFactory;
import org.eclipse.ditto.json.JsonFieldSelector;
import org.eclipse.ditto.json.JsonPointer;

/** Twin → the JSON shape of Eclipse Ditto's things API v2. */
public final class TwinApiMapper {

    private TwinApiMapper() {
    }

    /**
     * The {@code policyId} a thing reads with: Ditto names the policy that guards a thing; here access
     * is Keycloak's, and every thing reads with its own id (Ditto's default policy id), so that a Ditto
     * tool's read-modify-write sends back what it read.
     */
    public static String policyId(dev.doppel.contracts.ThingId id) {
        return id.toString();
    }

    public static Map<String, Object> toApi(Twin twin) {
        Map<String, Object> features = new LinkedHashMap<>();
        twin.features().forEach((id, f) -> {
            Map<String, Object> feature = new LinkedHashMap<>();
            if (f.definition() != null) {
                feature.put("definition", f.definition());
            }
            feature.put("properties", f.properties());
            if (!f.desiredProperties().isEmpty()) {
                feature.put("desiredProperties", f.desiredProperties());
            }
            features.put(id, feature);
        });
        Map<String, Object> thing = new LinkedHashMap<>();
        thing.put("thingId", twin.thingId().toString());
        thing.put("policyId", policyId(twin.thingId()));
        if (twin.definition() != null) {
            thing.put("definition", twin.definition());
        }
        thing.put("attributes", twin.attributes());
        thing.put("features", features);
        thing.put("_revision", twin.revision());
        thing.put("_created", twin.created().toString());
        thing.put("_modified", twin.modified().toString());
        return thing;
    }

    /** Longest {@code fields} read, and most paths in it. */
    static final int MAX_FIELDS_LENGTH = 4096;
    static final int MAX_FIELDS = 100;

    /**
     * Ditto's {@code fields}, read by Ditto's own field selector ({@code org.eclipse.ditto:ditto-json}):
     * comma-separated paths, with parentheses for several under one parent
     * ({@code attributes/complex(some,serialNo)}, nested too) and {@code *} for every key at one level
     * (every feature's {@code on}: features, {@code *}, properties, on). Null when none; {@link InvalidReport} {@code invalid-fields}
     * if it is not such a list.
     */
    public static List<List<String>> fields(String fields) {
        if (fields == null || fields.isBlank()) {
            return null;
        }
        if (fields.length() > MAX_FIELDS_LENGTH) {
            throw new InvalidReport("invalid-fields", "fields is longer than " + MAX_FIELDS_LENGTH + " characters");
        }
        JsonFieldSelector selector;
        try {
            selector = JsonFactory.newFieldSelector(fields, JsonFactory.newParseOptionsBuilder().withoutUrlDecoding()
                    .build());
        } catch (RuntimeException e) {
            throw new InvalidReport("invalid-fields", "fields is a list of paths such as "
                    + "thingId,attributes/complex(some,serialNo),features/*/properties/on; not '" + fields + "'");
        }
        List<List<String>> paths = new ArrayList<>();
        for (JsonPointer pointer : selector) {
            List<String> path = new ArrayList<>();
            pointer.forEach(key -> path.add(key.toString()));
            if (!path.isEmpty()) {
                paths.add(path);
            }
            if (paths.size() > MAX_FIELDS) {
                throw new InvalidReport("invalid-fields", "fields names more than " + MAX_FIELDS + " paths");
            }
        }
        return paths;
    }

    /** Only the named parts of a thing, in its shape; the thing itself when {@code fields} is empty. */
    public static Map<String, Object> select(Map<String, Object> thing, String fields) {
        return select(thing, fields(fields));
    }

    /** {@link #select(Map, String)} with the paths already read ({@link #fields}). */
    public static Map<String, Object> select(Map<String, Object> thing, List<List<String>> paths) {
        if (paths == null) {
            return thing;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (List<String> path : paths) {
            copy(thing, path, 0, out);
        }
        return out;
    }

    /** Copies what {@code path} (from {@code at} on) names in {@code from} into {@code to}; '*' is every key. */
    @SuppressWarnings("unchecked")
    private static void copy(Map<String, Object> from, List<String> path, int at, Map<String, Object> to) {
        String key = path.get(at);
        for (String k : "*".equals(key) ? List.copyOf(from.keySet()) : List.of(key)) {
            if (!from.containsKey(k)) {
                continue;
            }
            Object value = from.get(k);
            if (at == path.size() - 1) {
                to.put(k, value);
            } else if (value instanceof Map<?, ?> child) {
                Object existing = to.get(k);
                Map<String, Object> target = existing instanceof Map<?, ?> m ? (Map<String, Object>) m
                        : new LinkedHashMap<>();
                int before = target.size();
                copy((Map<String, Object>) child, path, at + 1, target);
                if (!(existing instanceof Map) && target.size() > before) {
                    to.put(k, target);
                }
            }
        }
    }
}

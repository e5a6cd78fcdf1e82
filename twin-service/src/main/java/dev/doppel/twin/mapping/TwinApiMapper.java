package dev.doppel.twin.mapping;

import dev.doppel.twin.model.Twin;
import java.util.LinkedHashMap;
import java.util.Map;

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

    /** Ditto's {@code fields}: only the named parts (slash paths), in the thing's shape. */
    public static Map<String, Object> select(Map<String, Object> thing, String fields) {
        if (fields == null || fields.isBlank()) {
            return thing;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (String field : fields.split(",")) {
            String[] segments = field.trim().split("/");
            Object node = thing;
            for (String s : segments) {
                node = node instanceof Map<?, ?> m ? m.get(s) : null;
            }
            if (node == null) {
                continue;
            }
            Map<String, Object> target = out;
            for (int i = 0; i < segments.length - 1; i++) {
                @SuppressWarnings("unchecked")
                Map<String, Object> next = (Map<String, Object>) target.computeIfAbsent(segments[i],
                        k -> new LinkedHashMap<String, Object>());
                target = next;
            }
            target.put(segments[segments.length - 1], node);
        }
        return out;
    }

}

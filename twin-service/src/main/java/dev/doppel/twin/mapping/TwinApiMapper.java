package dev.doppel.twin.mapping;

import dev.doppel.twin.model.Twin;
import java.util.LinkedHashMap;
import java.util.Map;

/** Twin → the JSON shape of Eclipse Ditto's things API v2. */
public final class TwinApiMapper {

    private TwinApiMapper() {
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

    /** Ditto's entity tag for a revision. */
    public static String etag(Twin twin) {
        return "\"rev:" + twin.revision() + "\"";
    }
}

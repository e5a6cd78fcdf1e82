package dev.doppel.twin.graphql;

import dev.doppel.twin.model.Feature;
import jakarta.json.JsonObject;
import java.util.List;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

@Name("Feature")
@Description("A feature of a twin: what the device reports (properties) and what it should reach (desiredProperties).")
public record FeatureNode(
        @NonNull String id,
        List<String> definition,
        @NonNull JsonObject properties,
        @NonNull JsonObject desiredProperties,
        @Description("desired values not yet reported") @NonNull JsonObject delta) {

    static FeatureNode of(String id, Feature feature) {
        return new FeatureNode(id, feature.definition(), JsonValues.toJson(feature.properties()),
                JsonValues.toJson(feature.desiredProperties()), JsonValues.toJson(feature.delta()));
    }
}

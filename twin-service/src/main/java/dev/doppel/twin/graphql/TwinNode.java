package dev.doppel.twin.graphql;

import dev.doppel.twin.model.Twin;
import jakarta.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.Ignore;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

/** A twin in the graph: Ditto's thing, plus its delta; feature, property and history take arguments. */
@Name("Twin")
@Description("A digital twin: Ditto's thing with attributes and features (reported and desired properties).")
public class TwinNode {

    @Ignore
    private final Twin twin;

    TwinNode(Twin twin) {
        this.twin = twin;
    }

    Twin twin() {
        return twin;
    }

    @NonNull
    @Description("namespace:name; the namespace is the tenant")
    public String getThingId() {
        return twin.thingId().toString();
    }

    public String getDefinition() {
        return twin.definition();
    }

    @NonNull
    public JsonObject getAttributes() {
        return JsonValues.toJson(twin.attributes());
    }

    @NonNull
    public List<@NonNull FeatureNode> getFeatures() {
        return twin.features().entrySet().stream().map(e -> FeatureNode.of(e.getKey(), e.getValue())).toList();
    }

    @Description("Desired values the device has not reported yet, by feature")
    @NonNull
    public JsonObject getDelta() {
        return JsonValues.toJson(twin.delta());
    }

    @Description("Grows by one with every change; pass it as expectedRevision to write only over this state")
    public long getRevision() {
        return twin.revision();
    }

    @NonNull
    public Instant getCreated() {
        return twin.created();
    }

    @NonNull
    public Instant getModified() {
        return twin.modified();
    }
}

package dev.doppel.twin.graphql;

import dev.doppel.contracts.TwinChanged;
import jakarta.json.JsonObject;
import java.time.Instant;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

@Name("TwinChange")
@Description("A change of a twin, as it happened: the changed values by path and the delta after it.")
public record TwinChange(
        @NonNull String thingId,
        long revision,
        long previousRevision,
        Instant modified,
        @Description("new values by slash path, e.g. features/telemetry/properties/temperature; null where deleted") @NonNull JsonObject changes,
        @NonNull JsonObject delta) {

    static TwinChange of(TwinChanged c) {
        return new TwinChange(c.thingId(), c.revision(), c.previousRevision(), c.modified(),
                JsonValues.toJson(c.changes()), JsonValues.toJson(c.delta() == null ? java.util.Map.of() : c.delta()));
    }
}

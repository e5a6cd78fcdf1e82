package dev.doppel.connectivity.adapter.modbus;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import dev.doppel.connectivity.config.RegistryConfig;
import dev.doppel.contracts.ThingId;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;

/** The poll plans of Modbus devices, in the registry's database ({@code modbus_plans}, by thing id). */
@ApplicationScoped
public class ModbusPlans {

    private final ReactiveMongoCollection<Document> plans;
    private final ObjectMapper json;

    public ModbusPlans(ReactiveMongoClient mongo, RegistryConfig config, ObjectMapper json) {
        this.plans = mongo.getDatabase(config.database()).getCollection("modbus_plans");
        this.json = json;
    }

    /** Stores a validated plan; {@code true} if the device had none. */
    public Uni<Boolean> put(ThingId id, ModbusPlan plan) {
        Document doc = new Document(json.convertValue(plan, new TypeReference<Map<String, Object>>() { }))
                .append("_id", id.toString());
        return plans.replaceOne(Filters.eq("_id", id.toString()), doc, new ReplaceOptions().upsert(true))
                .map(r -> r.getMatchedCount() == 0);
    }

    public Uni<Optional<ModbusPlan>> find(ThingId id) {
        return plans.find(Filters.eq("_id", id.toString())).collect().first()
                .map(d -> Optional.ofNullable(d).map(this::plan));
    }

    public Uni<Boolean> delete(ThingId id) {
        return plans.deleteOne(Filters.eq("_id", id.toString())).map(r -> r.getDeletedCount() == 1);
    }

    /** Every plan, by thing id. */
    public Uni<Map<String, ModbusPlan>> all() {
        return plans.find().collect().asList().map(docs -> {
            Map<String, ModbusPlan> out = new LinkedHashMap<>();
            docs.forEach(d -> out.put(d.getString("_id"), plan(d)));
            return out;
        });
    }

    private ModbusPlan plan(Document d) {
        Map<String, Object> fields = new LinkedHashMap<>(d);
        fields.remove("_id");
        return json.convertValue(fields, ModbusPlan.class);
    }
}

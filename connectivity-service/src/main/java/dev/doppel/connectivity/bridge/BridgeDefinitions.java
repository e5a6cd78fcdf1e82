package dev.doppel.connectivity.bridge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import dev.doppel.connectivity.config.RegistryConfig;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;

/**
 * The external broker connections, in connectivity's database ({@code bridges}), keyed
 * {@code tenant/name}. The password is kept as given: the bridge needs it to connect.
 */
@ApplicationScoped
public class BridgeDefinitions {

    private final ReactiveMongoCollection<Document> bridges;
    private final ObjectMapper json;

    public BridgeDefinitions(ReactiveMongoClient mongo, RegistryConfig config, ObjectMapper json) {
        this.bridges = mongo.getDatabase(config.database()).getCollection("bridges");
        this.json = json;
    }

    /** {@code true} if it is new. */
    public Uni<Boolean> put(String tenant, String name, BridgeDefinition definition) {
        String text;
        try {
            text = json.writeValueAsString(definition);
        } catch (JsonProcessingException e) {
            return Uni.createFrom().failure(e);
        }
        Document doc = new Document("_id", tenant + "/" + name).append("tenant", tenant).append("name", name)
                .append("definition", text);
        return bridges.replaceOne(Filters.eq("_id", doc.getString("_id")), doc, new ReplaceOptions().upsert(true))
                .map(r -> r.getUpsertedId() != null);
    }

    public Uni<Optional<BridgeDefinition>> find(String tenant, String name) {
        return bridges.find(Filters.eq("_id", tenant + "/" + name)).collect().first()
                .map(d -> Optional.ofNullable(d).map(this::read));
    }

    public Uni<Boolean> delete(String tenant, String name) {
        return bridges.deleteOne(Filters.eq("_id", tenant + "/" + name)).map(r -> r.getDeletedCount() == 1);
    }

    /** All definitions by {@code tenant/name}. */
    public Uni<Map<String, BridgeDefinition>> all() {
        return bridges.find().collect().in(LinkedHashMap::new, (m, d) -> m.put(d.getString("_id"), read(d)));
    }

    private BridgeDefinition read(Document d) {
        try {
            return json.readValue(d.getString("definition"), BridgeDefinition.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored bridge " + d.getString("_id") + " is unreadable", e);
        }
    }
}

package dev.doppel.connectivity.bridge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.Updates;
import dev.doppel.connectivity.config.RegistryConfig;
import dev.doppel.connectivity.registry.SecretBox;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * The external broker connections, in connectivity's database ({@code bridges}), keyed
 * {@code tenant/name}. The bridge needs the password to connect, so it is kept sealed
 * ({@link SecretBox}) beside the rest of the definition, never in the clear.
 */
@ApplicationScoped
public class BridgeDefinitions {

    private final ReactiveMongoCollection<Document> bridges;
    private final ObjectMapper json;

    private final SecretBox secrets;

    public BridgeDefinitions(ReactiveMongoClient mongo, RegistryConfig config, ObjectMapper json, SecretBox secrets) {
        this.bridges = mongo.getDatabase(config.database()).getCollection("bridges");
        this.json = json;
        this.secrets = secrets;
    }

    /** {@code true} if it is new. */
    public Uni<Boolean> put(String tenant, String name, BridgeDefinition definition) {
        Document doc;
        try {
            doc = document(tenant + "/" + name, definition).append("tenant", tenant).append("name", name);
        } catch (JsonProcessingException e) {
            return Uni.createFrom().failure(e);
        }
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

    /** The stored form: the definition without its password, and the password sealed for this record. */
    private Document document(String id, BridgeDefinition definition) throws JsonProcessingException {
        Document doc = new Document("_id", id).append("definition", json.writeValueAsString(definition.withPassword(null)));
        if (definition.password() != null) {
            doc.append("password", secrets.seal(definition.password(), id));
        }
        return doc;
    }

    private BridgeDefinition read(Document d) {
        BridgeDefinition definition;
        try {
            definition = json.readValue(d.getString("definition"), BridgeDefinition.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored bridge " + d.getString("_id") + " is unreadable", e);
        }
        String sealed = d.getString("password");
        // A definition stored before sealing existed has its password inside, in the clear.
        return sealed == null ? definition : definition.withPassword(secrets.openString(sealed, d.getString("_id")));
    }

    /**
     * Seals every password stored in the clear (before sealing existed) or with an old key, under
     * the current one; returns how many it sealed. Run at start.
     */
    public Uni<Integer> sealStoredPasswords() {
        return bridges.find().filter(d -> {
            String sealed = d.getString("password");
            return sealed != null ? !secrets.isCurrent(sealed) : read(d).password() != null;
        }).onItem().transformToUniAndConcatenate(d -> {
            Document sealed;
            try {
                sealed = document(d.getString("_id"), read(d));
            } catch (JsonProcessingException e) {
                return Uni.createFrom().failure(e);
            }
            Bson update = sealed.containsKey("password")
                    ? Updates.combine(Updates.set("definition", sealed.getString("definition")),
                            Updates.set("password", sealed.getString("password")))
                    : Updates.set("definition", sealed.getString("definition"));
            return bridges.updateOne(Filters.eq("_id", d.getString("_id")), update);
        }).collect().with(java.util.stream.Collectors.counting()).map(Long::intValue);
    }
}

package dev.doppel.connectivity.registry;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReplaceOptions;
import dev.doppel.connectivity.config.RegistryConfig;
import dev.doppel.contracts.ThingId;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bson.Document;

/**
 * The device registry in connectivity's own database: {@code devices} and {@code credentials}
 * (hashed secrets only). Credentials follow Eclipse Hono's model: type + auth-id per tenant.
 */
@ApplicationScoped
public class DeviceRegistry {

    public static final String HASHED_PASSWORD = "hashed-password";

    private final ReactiveMongoCollection<Document> devices;
    private final ReactiveMongoCollection<Document> credentials;
    private final ReactiveMongoCollection<Document> tenants;
    private final RegistryConfig config;

    public DeviceRegistry(ReactiveMongoClient mongo, RegistryConfig config) {
        this.config = config;
        this.devices = mongo.getDatabase(config.database()).getCollection("devices");
        this.credentials = mongo.getDatabase(config.database()).getCollection("credentials");
        this.tenants = mongo.getDatabase(config.database()).getCollection("tenants");
    }

    /**
     * Sets whether a tenant's devices may connect. A tenant without a record is enabled, so devices
     * can be registered before anyone manages their tenant.
     */
    public Uni<Void> putTenant(String tenant, boolean enabled) {
        return tenants.replaceOne(Filters.eq("_id", tenant), new Document("_id", tenant).append("enabled", enabled),
                new ReplaceOptions().upsert(true)).replaceWithVoid();
    }

    public Uni<Boolean> isTenantEnabled(String tenant) {
        return tenants.find(Filters.eq("_id", tenant)).collect().first()
                .map(d -> d == null || d.getBoolean("enabled", true));
    }

    public Uni<Void> ensureIndexes() {
        return credentials.createIndex(Indexes.ascending("tenant", "deviceId"), new IndexOptions().name("tenant_device"))
                .chain(() -> devices.createIndex(Indexes.ascending("tenant"), new IndexOptions().name("tenant")))
                .replaceWithVoid();
    }

    /** Creates or updates a device; {@code true} if it was created. */
    public Uni<Boolean> putDevice(ThingId id, boolean enabled) {
        return findDevice(id).chain(existing -> {
            Instant created = existing.map(Device::created).orElseGet(Instant::now);
            Document doc = new Document("_id", id.toString()).append("tenant", id.tenant())
                    .append("deviceId", id.deviceId()).append("enabled", enabled)
                    .append("created", Date.from(created));
            return devices.replaceOne(Filters.eq("_id", id.toString()), doc, new ReplaceOptions().upsert(true))
                    .map(r -> existing.isEmpty());
        });
    }

    public Uni<Optional<Device>> findDevice(ThingId id) {
        return devices.find(Filters.eq("_id", id.toString())).collect().first()
                .map(d -> Optional.ofNullable(d).map(doc -> new Device(id, doc.getBoolean("enabled", true),
                        doc.getDate("created").toInstant())));
    }

    /** Those of {@code thingIds} that are registered and enabled, in an enabled tenant (two queries). */
    public Uni<Set<String>> enabled(Collection<String> thingIds) {
        if (thingIds.isEmpty()) {
            return Uni.createFrom().item(Set.of());
        }
        return tenants.find(Filters.eq("enabled", false)).map(d -> d.getString("_id")).collect().asList()
                .chain(disabledTenants -> devices.find(Filters.and(Filters.in("_id", thingIds),
                        Filters.ne("enabled", false), Filters.nin("tenant", disabledTenants)))
                        .map(d -> d.getString("_id")).collect().in(HashSet::new, Set::add));
    }

    /** Deletes a device and its credentials; {@code false} if it did not exist. */
    public Uni<Boolean> deleteDevice(ThingId id) {
        return credentials.deleteMany(Filters.and(Filters.eq("tenant", id.tenant()), Filters.eq("deviceId", id.deviceId())))
                .chain(() -> devices.deleteOne(Filters.eq("_id", id.toString())))
                .map(r -> r.getDeletedCount() == 1);
    }

    /** Replaces the password credentials of a device; the plain password is hashed here and never stored. */
    public Uni<Void> setPassword(ThingId device, String authId, String plainPassword) {
        return Uni.createFrom().item(() -> PasswordHasher.hash(plainPassword, config.pbkdf2Iterations()))
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .chain(hash -> {
                    Document doc = new Document("_id", credentialId(device.tenant(), authId))
                            .append("tenant", device.tenant()).append("deviceId", device.deviceId())
                            .append("type", HASHED_PASSWORD).append("authId", authId)
                            .append("secrets", List.of(new Document("hashFunction", hash.algorithm())
                                    .append("iterations", hash.iterations()).append("salt", hash.salt())
                                    .append("hash", hash.hash())));
                    return credentials.replaceOne(Filters.eq("_id", doc.getString("_id")), doc,
                            new ReplaceOptions().upsert(true));
                })
                .replaceWithVoid();
    }

    /** The auth-ids of a device's credentials (never the secrets). */
    public Uni<List<Document>> listCredentials(ThingId device) {
        return credentials.find(Filters.and(Filters.eq("tenant", device.tenant()),
                Filters.eq("deviceId", device.deviceId()))).collect().asList()
                .map(docs -> {
                    List<Document> out = new ArrayList<>();
                    docs.forEach(d -> out.add(new Document("type", d.getString("type"))
                            .append("auth-id", d.getString("authId"))));
                    return out;
                });
    }

    /**
     * Checks a device's password. Returns the device when the credential matches and the device is
     * enabled; an unknown auth-id costs the same hashing time as a wrong password.
     */
    public Uni<AuthResult> authenticate(String tenant, String authId, String password) {
        return credentials.find(Filters.eq("_id", credentialId(tenant, authId))).collect().first()
                .chain(cred -> Uni.createFrom().item(() -> verify(cred, password))
                        .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                        .chain(ok -> {
                            if (!ok) {
                                return Uni.createFrom().item(AuthResult.badCredentials());
                            }
                            ThingId id = ThingId.of(tenant, cred.getString("deviceId"));
                            return isTenantEnabled(tenant).chain(tenantEnabled -> findDevice(id).map(device -> device
                                    .map(d -> !tenantEnabled ? new AuthResult(AuthResult.Outcome.TENANT_DISABLED, id)
                                            : d.enabled() ? AuthResult.ok(id) : AuthResult.disabled(id))
                                    .orElse(AuthResult.badCredentials())));
                        }));
    }

    private static final PasswordHasher.Hash DUMMY = PasswordHasher.hash("dummy", 100_000);

    private static boolean verify(Document cred, String password) {
        if (cred == null || !HASHED_PASSWORD.equals(cred.getString("type"))) {
            PasswordHasher.verify(password == null ? "" : password, DUMMY);
            return false;
        }
        for (Document s : cred.getList("secrets", Document.class)) {
            PasswordHasher.Hash h = new PasswordHasher.Hash(s.getString("hashFunction"), s.getInteger("iterations"),
                    s.getString("salt"), s.getString("hash"));
            if (PasswordHasher.verify(password, h)) {
                return true;
            }
        }
        return false;
    }

    private static String credentialId(String tenant, String authId) {
        return tenant + "/" + HASHED_PASSWORD + "/" + authId;
    }

    /** Outcome of a device login. */
    public record AuthResult(Outcome outcome, ThingId device) {
        public enum Outcome { OK, BAD_CREDENTIALS, DISABLED, TENANT_DISABLED }

        static AuthResult ok(ThingId id) {
            return new AuthResult(Outcome.OK, id);
        }

        static AuthResult badCredentials() {
            return new AuthResult(Outcome.BAD_CREDENTIALS, null);
        }

        static AuthResult disabled(ThingId id) {
            return new AuthResult(Outcome.DISABLED, id);
        }
    }
}

package dev.doppel.connectivity.mapping;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import dev.doppel.connectivity.config.RegistryConfig;
import dev.doppel.connectivity.registry.Device;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.ThingId;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.Document;

/**
 * Payload mappings per device. A tenant keeps named JSONata mappings (one per device type, say), a
 * device names the one it uses, and a device without one gets the default mapping. What a device
 * uses is looked up once and then kept for {@code doppel.mapping.cache-for}, so a changed mapping
 * reaches a device within that time (an MQTT connection keeps the one it connected with).
 */
@ApplicationScoped
public class PayloadMappings {

    @ConfigMapping(prefix = "doppel.mapping")
    public interface MappingConfig {

        /** Longest a custom mapping may run for one message. */
        @WithDefault("100ms")
        Duration timeLimit();

        /** Deepest a custom mapping may recurse. */
        @WithDefault("200")
        int maxDepth();

        /** How long a device's mapping is kept before it is looked up again. */
        @WithDefault("10s")
        Duration cacheFor();

        /** Threads that run custom mappings ({@link MappingPool}). */
        @WithDefault("2")
        int threads();

        /** Custom mappings that may wait for a thread before further messages are refused. */
        @WithDefault("1000")
        int queue();
    }

    /** Maps one device's payloads. */
    @FunctionalInterface
    public interface DeviceMapper {
        MappedReport map(byte[] payload, String contentType, String feature, String channel) throws MappingException;

        /**
         * Whether it may run where the message arrived (an event loop): the default mapping does; a
         * custom one, which may take its whole time limit, runs on the {@link MappingPool}.
         */
        default boolean quick() {
            return true;
        }
    }

    /** A mapping devices still use cannot be deleted. */
    public static class InUse extends RuntimeException {
        public InUse(String name, long devices) {
            super("mapping " + name + " is used by " + devices + " device(s); point them elsewhere first");
        }
    }

    private record Cached(DeviceMapper mapper, Instant until) {
    }

    private final ReactiveMongoCollection<Document> mappings;
    private final DeviceRegistry registry;
    private final DefaultPayloadMapper defaults;
    private final ObjectMapper json;
    private final MappingConfig config;
    private final MappingPool pool;
    private final Clock clock = Clock.systemUTC();
    private final Map<ThingId, Cached> byDevice = new ConcurrentHashMap<>();
    private final Map<String, JsonataMapping> compiled = new ConcurrentHashMap<>();

    public PayloadMappings(ReactiveMongoClient mongo, RegistryConfig registryConfig, DeviceRegistry registry,
            DefaultPayloadMapper defaults, ObjectMapper json, MappingConfig config, MappingPool pool) {
        this.pool = pool;
        this.mappings = mongo.getDatabase(registryConfig.database()).getCollection("mappings");
        this.registry = registry;
        this.defaults = defaults;
        this.json = json;
        this.config = config;
    }

    /** The device's mapper: its custom mapping, or the default (also for devices not registered here). */
    public Uni<DeviceMapper> forDevice(ThingId device) {
        Cached cached = byDevice.get(device);
        Instant now = clock.instant();
        if (cached != null && now.isBefore(cached.until())) {
            return Uni.createFrom().item(cached.mapper());
        }
        return registry.findDevice(device)
                .chain(found -> {
                    String name = found.map(Device::mapping).orElse(null);
                    String defaultContentType = found.map(Device::defaultContentType).orElse(null);
                    if (name == null) {
                        return Uni.createFrom().item(withDefault(defaultMapper(), defaultContentType));
                    }
                    return find(device.tenant(), name).map(expression -> withDefault(expression
                            .map(e -> compiledFor(device, name, e))
                            // A mapping deleted under a device (should not happen: delete refuses) maps nothing.
                            .orElseGet(() -> (p, ct, f, ch) -> {
                                throw new MappingException("mapping-missing", "the device's mapping " + name
                                        + " does not exist");
                            }), defaultContentType));
                })
                .invoke(mapper -> {
                    if (byDevice.size() > 100_000) {
                        byDevice.clear();
                    }
                    byDevice.put(device, new Cached(mapper, now.plus(config.cacheFor())));
                });
    }

    /** A message that declares no content type is taken to be of the device's default, if it has one. */
    private static DeviceMapper withDefault(DeviceMapper mapper, String defaultContentType) {
        if (defaultContentType == null) {
            return mapper;
        }
        return new DeviceMapper() {
            @Override
            public MappedReport map(byte[] payload, String contentType, String feature, String channel)
                    throws MappingException {
                return mapper.map(payload, contentType == null || contentType.isBlank() ? defaultContentType
                        : contentType, feature, channel);
            }

            @Override
            public boolean quick() {
                return mapper.quick();
            }
        };
    }

    private DeviceMapper defaultMapper() {
        return (payload, contentType, feature, channel) -> defaults.map(payload, contentType, feature);
    }

    private DeviceMapper custom(ThingId device, JsonataMapping mapping) {
        return new DeviceMapper() {
            @Override
            public MappedReport map(byte[] payload, String contentType, String feature, String channel)
                    throws MappingException {
                return mapping.apply(payload, new JsonataMapping.Message(device.tenant(), device.deviceId(), channel,
                        contentType, feature), json, defaults);
            }

            @Override
            public boolean quick() {
                return false;
            }
        };
    }

    /**
     * Maps a message with a device's mapper: a quick one at once, where the caller is; a custom one on
     * the {@link MappingPool}, the result handed back to the caller's Vert.x context if it has one.
     * Fails with the {@link MappingException} to answer the device with.
     */
    public Uni<MappedReport> map(DeviceMapper mapper, byte[] payload, String contentType, String feature,
            String channel) {
        if (mapper.quick()) {
            try {
                return Uni.createFrom().item(mapper.map(payload, contentType, feature, channel));
            } catch (MappingException e) {
                return Uni.createFrom().failure(e);
            }
        }
        Context caller = Vertx.currentContext();
        Uni<MappedReport> mapped = Uni.createFrom().completionStage(() -> mapAfter(mapper, payload, contentType,
                feature, channel, CompletableFuture.completedFuture(null)));
        return caller == null ? mapped : mapped.emitOn(r -> caller.runOnContext(v -> r.run()));
    }

    /**
     * A custom mapping on the {@link MappingPool} for messages that keep their order: it starts once
     * {@code after} (the mapping of the message before) is done, however that ended.
     */
    public CompletableFuture<MappedReport> mapAfter(DeviceMapper mapper, byte[] payload, String contentType,
            String feature, String channel, CompletableFuture<?> after) {
        return pool.map(mapper, payload, contentType, feature, channel, after);
    }

    /**
     * Compiled once per expression text (a changed expression is compiled anew). A stored expression
     * that does not compile (stored by an older version, say) fails each message as the device's
     * error, like any mapping failure, instead of failing the lookup.
     */
    private DeviceMapper compiledFor(ThingId device, String name, String expression) {
        String key = device.tenant() + "/" + name + "\n" + expression;
        JsonataMapping mapping = compiled.get(key);
        if (mapping == null) {
            try {
                mapping = JsonataMapping.compile(expression, config.timeLimit(), config.maxDepth());
            } catch (MappingException e) {
                return (p, ct, f, ch) -> {
                    throw e;
                };
            }
            if (compiled.size() > 10_000) {
                compiled.clear();
            }
            compiled.put(key, mapping);
        }
        return custom(device, mapping);
    }

    /** Compiles an expression with this service's limits (throws {@code invalid-mapping}). */
    public JsonataMapping compile(String expression) throws MappingException {
        return JsonataMapping.compile(expression, config.timeLimit(), config.maxDepth());
    }

    /** Runs a mapping on a sample message, as it would run for the device (on the {@link MappingPool}). */
    public Uni<MappedReport> trial(JsonataMapping mapping, ThingId device, String channel, byte[] payload,
            String contentType, String feature) {
        return map(custom(device, mapping), payload, contentType, feature, channel);
    }

    /** Stores a mapping (already compiled by the caller); {@code true} if it is new. */
    public Uni<Boolean> put(String tenant, String name, String expression) {
        Document doc = new Document("_id", tenant + "/" + name).append("tenant", tenant).append("name", name)
                .append("expression", expression).append("updated", Date.from(clock.instant()));
        return mappings.replaceOne(Filters.eq("_id", doc.getString("_id")), doc, new ReplaceOptions().upsert(true))
                .invoke(r -> byDevice.keySet().removeIf(d -> d.tenant().equals(tenant)))
                .map(r -> r.getUpsertedId() != null);
    }

    public Uni<Optional<String>> find(String tenant, String name) {
        return mappings.find(Filters.eq("_id", tenant + "/" + name)).collect().first()
                .map(d -> Optional.ofNullable(d).map(doc -> doc.getString("expression")));
    }

    /** Deletes a mapping no device uses; {@code false} if there was none. */
    public Uni<Boolean> delete(String tenant, String name) {
        return registry.countUsing(tenant, name).chain(users -> {
            if (users > 0) {
                throw new InUse(name, users);
            }
            return mappings.deleteOne(Filters.eq("_id", tenant + "/" + name)).map(r -> r.getDeletedCount() == 1);
        });
    }

    /** Forgets what a device used, after its registration changed. */
    public void forget(ThingId device) {
        byDevice.remove(device);
    }
}

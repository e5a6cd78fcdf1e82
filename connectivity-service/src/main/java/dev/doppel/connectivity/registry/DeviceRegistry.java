package dev.doppel.connectivity.registry;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import dev.doppel.connectivity.config.RegistryConfig;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.memory.BoundedEntries;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import javax.security.auth.x500.X500Principal;
import org.bson.Document;
import org.bson.types.Binary;

/**
 * The device registry in connectivity's own database: {@code devices}, {@code credentials}
 * (hashed secrets only), {@code tenants} and the tenants' trust anchors ({@code trusted_cas}).
 * Credentials follow Eclipse Hono's model: type + auth-id per tenant.
 */
@ApplicationScoped
public class DeviceRegistry {

    public static final String HASHED_PASSWORD = "hashed-password";
    public static final String PSK = "psk";
    /** A client certificate: the auth-id is its subject DN (RFC 2253); the tenant's CA vouches for it, no secret. */
    public static final String X509_CERT = "x509-cert";
    /** The longest auth-id of a password or PSK credential. */
    public static final int MAX_AUTH_ID = 256;

    /**
     * Whether this can be the auth-id of a password or PSK credential: 1 to {@value #MAX_AUTH_ID}
     * characters, no '@' (it ends the auth-id in a user name) and no control characters. Checked when
     * a credential is registered and before a login looks anything up.
     */
    public static boolean isAuthId(String authId) {
        if (authId == null || authId.isEmpty() || authId.length() > MAX_AUTH_ID) {
            return false;
        }
        for (int i = 0; i < authId.length(); i++) {
            char c = authId.charAt(i);
            if (c == '@' || Character.isISOControl(c)) {
                return false;
            }
        }
        return true;
    }

    private final ReactiveMongoCollection<Document> devices;
    private final ReactiveMongoCollection<Document> credentials;
    private final ReactiveMongoCollection<Document> tenants;
    private final ReactiveMongoCollection<Document> trustedCas;
    private final RegistryConfig config;
    private final SecretBox secrets;
    private final VerifiedPasswords verifiedPasswords;
    private final PasswordChecks passwordChecks;
    private final RecentAnswers<ThingId, Status> statuses;
    private final RecentAnswers<String, Document> passwordCredentials;
    /** Revocation lists as read, by CA DN: the last version read of each ({@link #revocationLists}). */
    private final Map<Object, ParsedCrls> parsedCrls = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int PARSED_CRLS_KEPT = 256;

    private record ParsedCrls(String version, List<RevocationList> crls) {
    }

    public DeviceRegistry(ReactiveMongoClient mongo, RegistryConfig config, PasswordChecks passwordChecks,
            SecretBox secrets) {
        this.config = config;
        this.secrets = secrets;
        this.passwordChecks = passwordChecks;
        this.verifiedPasswords = new VerifiedPasswords(config.verifiedPasswordKept(), java.time.Clock.systemUTC());
        this.statuses = new RecentAnswers<>(config.answersKept(), java.time.Clock.systemUTC());
        this.passwordCredentials = new RecentAnswers<>(config.answersKept(), java.time.Clock.systemUTC());
        this.devices = mongo.getDatabase(config.database()).getCollection("devices");
        this.credentials = mongo.getDatabase(config.database()).getCollection("credentials");
        this.tenants = mongo.getDatabase(config.database()).getCollection("tenants");
        this.trustedCas = mongo.getDatabase(config.database()).getCollection("trusted_cas");
    }

    /**
     * Sets whether a tenant's devices may connect. A tenant without a record is enabled, so devices
     * can be registered before anyone manages their tenant.
     */
    public Uni<Void> putTenant(String tenant, boolean enabled) {
        // Only the flag: the tenant's other settings (limits) stay.
        return tenants.updateOne(Filters.eq("_id", tenant), com.mongodb.client.model.Updates.set("enabled", enabled),
                new com.mongodb.client.model.UpdateOptions().upsert(true)).replaceWithVoid()
                .onTermination().invoke(this::forgetAnswers);
    }

    /** A tenant's resource limits; null fields are unlimited. */
    public record Limits(Integer maxConnections, Double messagesPerSecond) {
        public static final Limits NONE = new Limits(null, null);
    }

    public Uni<Void> putLimits(String tenant, Limits limits) {
        Document l = new Document();
        if (limits.maxConnections() != null) {
            l.append("maxConnections", limits.maxConnections());
        }
        if (limits.messagesPerSecond() != null) {
            l.append("messagesPerSecond", limits.messagesPerSecond());
        }
        return tenants.updateOne(Filters.eq("_id", tenant), com.mongodb.client.model.Updates.set("limits", l),
                new com.mongodb.client.model.UpdateOptions().upsert(true)).replaceWithVoid();
    }

    public Uni<Limits> limits(String tenant) {
        return tenants.find(Filters.eq("_id", tenant)).collect().first().map(d -> {
            Document l = d == null ? null : d.get("limits", Document.class);
            if (l == null) {
                return Limits.NONE;
            }
            Number rate = l.get("messagesPerSecond", Number.class);
            return new Limits(l.getInteger("maxConnections"), rate == null ? null : rate.doubleValue());
        });
    }

    /** Replaces where the tenant's Modbus devices and broker connections may connect ({@code EgressPolicy}). */
    public Uni<Void> putEgress(String tenant, List<String> allowed) {
        return tenants.updateOne(Filters.eq("_id", tenant), com.mongodb.client.model.Updates.set("egress", allowed),
                new com.mongodb.client.model.UpdateOptions().upsert(true)).replaceWithVoid();
    }

    /** The tenant's egress allow-list as stored; empty when none was set. */
    public Uni<List<String>> egress(String tenant) {
        return tenants.find(Filters.eq("_id", tenant)).collect().first().map(d -> {
            List<String> l = d == null ? null : d.getList("egress", String.class);
            return l == null ? List.of() : List.copyOf(l);
        });
    }

    public Uni<Boolean> isTenantEnabled(String tenant) {
        return tenants.find(Filters.eq("_id", tenant)).collect().first()
                .map(d -> d == null || d.getBoolean("enabled", true));
    }

    public Uni<Void> ensureIndexes() {
        return credentials.createIndex(Indexes.ascending("tenant", "deviceId"), new IndexOptions().name("tenant_device"))
                .chain(() -> devices.createIndex(Indexes.ascending("tenant"), new IndexOptions().name("tenant")))
                .chain(() -> devices.createIndex(Indexes.ascending("tenant", "via"), new IndexOptions().name("tenant_via")))
                .chain(() -> trustedCas.createIndex(Indexes.ascending("tenant"),
                        new IndexOptions().name("tenant")))
                .replaceWithVoid();
    }

    /** Creates or updates a device; {@code true} if it was created. */
    public Uni<Boolean> putDevice(ThingId id, boolean enabled, String mapping, List<String> via,
            String defaultContentType) {
        return findDevice(id).chain(existing -> {
            Instant created = existing.map(Device::created).orElseGet(Instant::now);
            Document doc = new Document("_id", id.toString()).append("tenant", id.tenant())
                    .append("deviceId", id.deviceId()).append("enabled", enabled)
                    .append("created", Date.from(created));
            if (mapping != null) {
                doc.append("mapping", mapping);
            }
            if (via != null && !via.isEmpty()) {
                doc.append("via", via);
            }
            if (defaultContentType != null) {
                doc.append("defaultContentType", defaultContentType);
            }
            return devices.replaceOne(Filters.eq("_id", id.toString()), doc, new ReplaceOptions().upsert(true))
                    .map(r -> existing.isEmpty());
        }).onTermination().invoke(this::forgetAnswers);
    }

    public Uni<Optional<Device>> findDevice(ThingId id) {
        return devices.find(Filters.eq("_id", id.toString())).collect().first()
                .map(d -> Optional.ofNullable(d).map(doc -> new Device(id, doc.getBoolean("enabled", true),
                        doc.getDate("created").toInstant(), doc.getString("mapping"),
                        doc.getList("via", String.class, List.of()), doc.getString("defaultContentType"))));
    }

    /**
     * Whether {@code gateway} may act for {@code device}: the device is registered and enabled, in the
     * gateway's tenant, and names the gateway in its {@code via}.
     */
    public Uni<Boolean> isGatewayFor(ThingId gateway, ThingId device) {
        if (!gateway.tenant().equals(device.tenant())) {
            return Uni.createFrom().item(false);
        }
        return devices.find(Filters.and(Filters.eq("_id", device.toString()), Filters.ne("enabled", false),
                Filters.eq("via", gateway.deviceId()))).collect().first().map(d -> d != null);
    }

    /**
     * The enabled devices that name {@code gateway} in their {@code via}, at most {@code limit} of them
     * (ordered by id, so a cut is the same each time).
     */
    public Uni<List<String>> devicesVia(ThingId gateway, int limit) {
        return devices.find(Filters.and(Filters.eq("tenant", gateway.tenant()), Filters.eq("via", gateway.deviceId()),
                Filters.ne("enabled", false)), new io.quarkus.mongodb.FindOptions()
                        .projection(new Document("deviceId", 1)).sort(new Document("_id", 1)).limit(limit))
                .map(d -> d.getString("deviceId")).collect().asList();
    }

    /** How many devices of the tenant use the named mapping. */
    public Uni<Long> countUsing(String tenant, String mapping) {
        return devices.countDocuments(Filters.and(Filters.eq("tenant", tenant), Filters.eq("mapping", mapping)));
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
                .map(r -> r.getDeletedCount() == 1)
                .onTermination().invoke(this::forgetAnswers);
    }

    /**
     * A credential as it comes in: a password (hashed here, never stored), a pre-shared key (for DTLS)
     * or a client certificate's subject DN.
     */
    public sealed interface NewCredential permits Password, PreSharedKey, ClientCertificate {
        String authId();

        String type();
    }

    public record Password(String authId, String plain) implements NewCredential {
        @Override
        public String type() {
            return HASHED_PASSWORD;
        }
    }

    /** A DTLS pre-shared key. Unlike a password it must be kept as it is: the server needs it for the handshake. */
    public record PreSharedKey(String authId, byte[] key) implements NewCredential {
        @Override
        public String type() {
            return PSK;
        }
    }

    /**
     * An X.509 client certificate, named by its subject DN in RFC 2253 form (Hono's {@code x509-cert}).
     * Nothing secret is kept: a certificate one of the tenant's trusted CAs issued proves the identity.
     */
    public record ClientCertificate(String authId) implements NewCredential {
        @Override
        public String type() {
            return X509_CERT;
        }
    }

    /** Thrown when an auth-id of the tenant is already a credential of another device. */
    public static class AuthIdTaken extends RuntimeException {
        public AuthIdTaken(String authId, String deviceId) {
            super("auth-id " + authId + " already belongs to device " + deviceId);
        }
    }

    /**
     * Replaces all credentials of a device with these (Hono's semantics of PUT). An auth-id another
     * device of the tenant uses is refused with {@link AuthIdTaken}, and nothing is changed.
     */
    public Uni<Void> replaceCredentials(ThingId device, List<NewCredential> wanted) {
        List<String> ids = wanted.stream().map(c -> credentialId(device.tenant(), c.type(), c.authId())).toList();
        return credentials.find(Filters.and(Filters.in("_id", ids), Filters.ne("deviceId", device.deviceId())))
                .collect().first()
                .chain(taken -> {
                    if (taken != null) {
                        throw new AuthIdTaken(taken.getString("authId"), taken.getString("deviceId"));
                    }
                    return Uni.createFrom().item(() -> wanted.stream().map(c -> toDocument(device, c)).toList())
                            .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
                })
                .chain(docs -> credentials.deleteMany(Filters.and(Filters.eq("tenant", device.tenant()),
                        Filters.eq("deviceId", device.deviceId()), Filters.nin("_id", ids)))
                        .chain(() -> io.smallrye.mutiny.Multi.createFrom().iterable(docs)
                                .onItem().transformToUniAndConcatenate(doc -> credentials.replaceOne(
                                        Filters.eq("_id", doc.getString("_id")), doc, new ReplaceOptions().upsert(true)))
                                .collect().last()))
                .replaceWithVoid()
                .onTermination().invoke(this::forgetAnswers);
    }

    private Document toDocument(ThingId device, NewCredential c) {
        Document doc = new Document("_id", credentialId(device.tenant(), c.type(), c.authId()))
                .append("tenant", device.tenant()).append("deviceId", device.deviceId())
                .append("type", c.type()).append("authId", c.authId());
        return switch (c) {
            case Password p -> {
                PasswordHasher.Hash hash = PasswordHasher.hash(p.plain(), config.pbkdf2Iterations());
                yield doc.append("secrets", List.of(new Document("hashFunction", hash.algorithm())
                        .append("iterations", hash.iterations()).append("salt", hash.salt()).append("hash", hash.hash())));
            }
            case PreSharedKey k -> doc.append("secrets", List.of(new Document("sealed",
                    secrets.seal(k.key(), doc.getString("_id")))));
            case ClientCertificate x509 -> doc.append("secrets", List.of());
        };
    }

    /** A device's pre-shared key found by its DTLS identity, with the device it names. */
    public record PskEntry(ThingId device, byte[] key) {
    }

    /** The pre-shared key on record for {@code authId} in the tenant, if any. */
    public Uni<Optional<PskEntry>> findPsk(String tenant, String authId) {
        return credentials.find(Filters.eq("_id", credentialId(tenant, PSK, authId))).collect().first()
                .map(d -> Optional.ofNullable(d).map(doc -> new PskEntry(ThingId.of(tenant, doc.getString("deviceId")),
                        pskOf(doc))));
    }

    /** The key of a stored PSK credential: sealed ({@link SecretBox}), or in the clear as stored before. */
    private byte[] pskOf(Document credential) {
        Document secret = credential.getList("secrets", Document.class).get(0);
        String sealed = secret.getString("sealed");
        return sealed != null ? secrets.open(sealed, credential.getString("_id"))
                : secret.get("key", org.bson.types.Binary.class).getData();
    }

    /**
     * Seals every pre-shared key stored in the clear (as before sealing existed) or with an old key,
     * under the current one; returns how many it sealed. Run at start, so a rotation or an upgrade
     * leaves no key readable from the database alone.
     */
    public Uni<Integer> sealStoredKeys() {
        return credentials.find(Filters.eq("type", PSK)).filter(doc -> {
            Document secret = doc.getList("secrets", Document.class).get(0);
            String sealed = secret.getString("sealed");
            return sealed == null || !secrets.isCurrent(sealed);
        }).onItem().transformToUniAndConcatenate(doc -> {
            String id = doc.getString("_id");
            Document sealed = new Document("sealed", secrets.seal(pskOf(doc), id));
            return credentials.updateOne(Filters.eq("_id", id), Updates.set("secrets", List.of(sealed)));
        }).collect().with(java.util.stream.Collectors.counting()).map(Long::intValue);
    }

    /** The device whose {@code x509-cert} credential names this subject DN (RFC 2253) in the tenant, if any. */
    public Uni<Optional<ThingId>> findCertificateDevice(String tenant, String subjectDn) {
        return credentials.find(Filters.eq("_id", credentialId(tenant, X509_CERT, subjectDn))).collect().first()
                .map(d -> Optional.ofNullable(d).map(doc -> ThingId.of(tenant, doc.getString("deviceId"))));
    }

    /** Thrown when a CA's subject DN is already a trust anchor of another tenant. */
    public static class TrustedCaTaken extends RuntimeException {
        public TrustedCaTaken(String subjectDn, String tenant) {
            super("a CA with subject " + subjectDn + " is already trusted by tenant " + tenant
                    + "; the issuer of a device certificate must name one tenant");
        }
    }

    /**
     * The CAs a tenant trusts with one subject DN (usually one, two while a CA is renewed with a new
     * key) and the revocation lists they issued.
     */
    public record TrustAnchors(String tenant, List<X509Certificate> cas, List<RevocationList> crls) {
    }

    /** A CA's certificate revocation list, with the fingerprint of the CA whose key signed it. */
    public record RevocationList(String caFingerprint, X509CRL crl) {
    }

    /** Thrown when a CRL given is older than the one stored for its CA. */
    public static class CrlOutdated extends RuntimeException {
        public CrlOutdated(String message) {
            super(message);
        }
    }

    /**
     * Replaces the tenant's trusted CAs with these (PUT semantics; an empty list removes them all).
     * Stored one document per subject DN, whose {@code _id} is the DN: the issuer of a device
     * certificate then names exactly one tenant, as in Hono. A DN another tenant has is refused with
     * {@link TrustedCaTaken}, and nothing is changed.
     */
    public Uni<Void> replaceTrustedCas(String tenant, List<X509Certificate> cas) {
        Map<String, List<X509Certificate>> byName = new LinkedHashMap<>();
        cas.forEach(ca -> byName.computeIfAbsent(Certificates.key(ca.getSubjectX500Principal()), k -> new ArrayList<>())
                .add(ca));
        List<String> ids = new ArrayList<>(byName.keySet());
        return trustedCas.find(Filters.and(Filters.in("_id", ids), Filters.ne("tenant", tenant))).collect().first()
                .chain(taken -> {
                    if (taken != null) {
                        throw new TrustedCaTaken(taken.getString("subjectDn"), taken.getString("tenant"));
                    }
                    return trustedCas.deleteMany(Filters.and(Filters.eq("tenant", tenant), Filters.nin("_id", ids)));
                })
                .chain(() -> io.smallrye.mutiny.Multi.createFrom().iterable(byName.entrySet())
                        // An update, not a replacement: the revocation lists stored with the DN stay.
                        .onItem().transformToUniAndConcatenate(e -> trustedCas.updateOne(
                                Filters.and(Filters.eq("_id", e.getKey()), Filters.eq("tenant", tenant)),
                                Updates.combine(Updates.set("tenant", tenant),
                                        Updates.set("subjectDn", Certificates.subject(e.getValue().get(0))),
                                        Updates.set("certs", e.getValue().stream()
                                                .map(ca -> new Binary(Certificates.der(ca))).toList())),
                                new UpdateOptions().upsert(true))
                                // Another tenant took the DN since the check: the upsert collides with its _id.
                                .onFailure(f -> f instanceof com.mongodb.MongoWriteException w
                                        && w.getError().getCategory() == com.mongodb.ErrorCategory.DUPLICATE_KEY)
                                .transform(f -> new TrustedCaTaken(Certificates.subject(e.getValue().get(0)),
                                        "another tenant")))
                        .collect().last())
                .replaceWithVoid();
    }

    /** The tenant's trusted CAs. */
    public Uni<List<X509Certificate>> listTrustedCas(String tenant) {
        return trustedCas.find(Filters.eq("tenant", tenant)).collect().asList().map(docs -> docs.stream()
                .flatMap(d -> d.getList("certs", Binary.class).stream())
                .map(b -> Certificates.fromDer(b.getData())).toList());
    }

    /**
     * The tenant, CAs and revocation lists whose subject is this issuer of a device certificate, if
     * any tenant trusts one.
     */
    public Uni<Optional<TrustAnchors>> findTrustAnchors(X500Principal issuer) {
        return trustedCas.find(Filters.eq("_id", Certificates.key(issuer))).collect().first()
                .map(d -> Optional.ofNullable(d).map(doc -> new TrustAnchors(doc.getString("tenant"),
                        doc.getList("certs", Binary.class).stream().map(b -> Certificates.fromDer(b.getData()))
                                .toList(), revocationLists(doc))));
    }

    /**
     * The revocation lists stored with a CA's DN, read once per version: a CRL may list thousands of
     * certificates, and a login should not parse it again.
     */
    private List<RevocationList> revocationLists(Document doc) {
        List<Document> stored = doc.getList("crls", Document.class);
        if (stored == null || stored.isEmpty()) {
            return List.of();
        }
        String version = doc.getString("crlsVersion");
        ParsedCrls known = parsedCrls.get(doc.get("_id"));
        if (known != null && java.util.Objects.equals(known.version(), version)) {
            return known.crls();
        }
        List<RevocationList> read = stored.stream()
                .map(c -> new RevocationList(c.getString("ca"), Certificates.crlFromDer(c.get("der", Binary.class).getData())))
                .toList();
        BoundedEntries.makeRoom(parsedCrls, PARSED_CRLS_KEPT, p -> true);
        parsedCrls.put(doc.get("_id"), new ParsedCrls(version, read));
        return read;
    }

    /** The tenant's revocation lists. */
    public Uni<List<RevocationList>> listCrls(String tenant) {
        return trustedCas.find(Filters.eq("tenant", tenant)).collect().asList()
                .map(docs -> docs.stream().flatMap(d -> revocationLists(d).stream()).toList());
    }

    /**
     * Replaces the tenant's revocation lists with these (PUT semantics; an empty list removes them
     * all), each stored with the DN of the CA that signed it. A list older than the one stored for the
     * same CA (an earlier {@code thisUpdate}) is refused with {@link CrlOutdated}, and nothing is
     * changed: a revocation is not undone by sending yesterday's file.
     */
    public Uni<Void> replaceCrls(String tenant, List<RevocationList> crls) {
        return trustedCas.find(Filters.eq("tenant", tenant)).collect().asList().chain(docs -> {
            for (Document doc : docs) {
                for (RevocationList stored : revocationLists(doc)) {
                    for (RevocationList given : crls) {
                        if (given.caFingerprint().equals(stored.caFingerprint())
                                && given.crl().getThisUpdate().before(stored.crl().getThisUpdate())) {
                            throw new CrlOutdated("the CRL of " + doc.getString("subjectDn") + " issued "
                                    + given.crl().getThisUpdate().toInstant() + " is older than the stored one, issued "
                                    + stored.crl().getThisUpdate().toInstant());
                        }
                    }
                }
            }
            return io.smallrye.mutiny.Multi.createFrom().iterable(docs).onItem().transformToUniAndConcatenate(doc -> {
                String key = doc.getString("_id"); // the CA's DN as a certificate's issuer is found by
                List<Document> mine = crls.stream()
                        .filter(c -> Certificates.key(c.crl().getIssuerX500Principal()).equals(key))
                        .map(c -> new Document("ca", c.caFingerprint()).append("der", new Binary(Certificates.der(c.crl()))))
                        .toList();
                return trustedCas.updateOne(Filters.and(Filters.eq("_id", doc.get("_id")), Filters.eq("tenant", tenant)),
                        mine.isEmpty()
                                ? Updates.combine(Updates.unset("crls"), Updates.unset("crlsVersion"))
                                : Updates.combine(Updates.set("crls", mine),
                                        Updates.set("crlsVersion", java.util.UUID.randomUUID().toString())));
            }).collect().last().replaceWithVoid();
        });
    }

    /** Whether a device may send now. */
    public enum Status { UNKNOWN, DISABLED, TENANT_DISABLED, ENABLED }

    /**
     * Whether a device may act: read from the store, or kept from a read at most
     * {@code doppel.registry.answers-kept} ago (a change made through this instance counts at once).
     */
    public Uni<Status> status(ThingId id) {
        return statuses.get(id, () -> isTenantEnabled(id.tenant()).chain(tenantEnabled -> findDevice(id)
                .map(device -> device.isEmpty()
                        ? Status.UNKNOWN
                        : !tenantEnabled ? Status.TENANT_DISABLED
                        : device.get().enabled() ? Status.ENABLED : Status.DISABLED)), s -> true);
    }

    /**
     * Forgets the answers kept for devices' logins at once: a change of the registry made through
     * another instance ({@code dt.registry-changes}).
     */
    public void forgetKeptAnswers() {
        forgetAnswers();
    }

    /** Forgets the answers kept for devices' logins: after every change of the registry made here. */
    private void forgetAnswers() {
        statuses.forgetAll();
        passwordCredentials.forgetAll();
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
     * enabled; an unknown auth-id costs the same hashing time as a wrong password. A password that did
     * not match lately needs that slow check, which runs only if {@code beforeCheck} allows it now
     * (the caller's per-source allowance, the throttle shared by the replicas): it gives null to go on,
     * or the outcome to answer with instead.
     */
    public Uni<AuthResult> authenticate(String tenant, String authId, String password,
            Supplier<Uni<AuthResult.Outcome>> beforeCheck) {
        String credentialId = credentialId(tenant, HASHED_PASSWORD, authId);
        // Only credentials that exist are kept: made-up auth-ids cannot fill the memory.
        return passwordCredentials.get(credentialId,
                () -> credentials.find(Filters.eq("_id", credentialId)).collect().first(), cred -> cred != null)
                .chain(cred -> {
                    String stored = storedHashes(cred);
                    boolean remembered = stored != null && password != null
                            && verifiedPasswords.matchedLately(stored, password);
                    if (remembered) {
                        return checked(cred, tenant, Uni.createFrom().item(true));
                    }
                    return beforeCheck.get().chain(refused -> refused != null
                            ? Uni.createFrom().item(new AuthResult(refused, null))
                            : checked(cred, tenant, passwordChecks.run(() -> verify(cred, password)).invoke(ok -> {
                                if (ok) {
                                    verifiedPasswords.matched(stored, password);
                                }
                            })));
                });
    }

    /** What a login comes to once {@code matches} says whether its password is the credential's. */
    private Uni<AuthResult> checked(Document cred, String tenant, Uni<Boolean> matches) {
        return matches.chain(ok -> {
            if (!ok) {
                return Uni.createFrom().item(AuthResult.badCredentials());
            }
            // Enabled or not: a device or tenant disabled here counts at once, elsewhere
            // within doppel.registry.answers-kept.
            ThingId id = ThingId.of(tenant, cred.getString("deviceId"));
            return status(id).map(status -> switch (status) {
                case ENABLED -> AuthResult.ok(id);
                case DISABLED -> AuthResult.disabled(id);
                case TENANT_DISABLED -> new AuthResult(AuthResult.Outcome.TENANT_DISABLED, id);
                case UNKNOWN -> AuthResult.badCredentials();
            });
        }).onFailure(PasswordChecks.Busy.class).recoverWithItem(new AuthResult(AuthResult.Outcome.BUSY, null));
    }

    /** What a password credential's check depends on: its id and each secret's salt and hash; null if none. */
    private static String storedHashes(Document cred) {
        if (cred == null || !HASHED_PASSWORD.equals(cred.getString("type"))) {
            return null;
        }
        StringBuilder out = new StringBuilder(cred.getString("_id"));
        for (Document s : cred.getList("secrets", Document.class)) {
            out.append('\n').append(s.getString("hashFunction")).append('/').append(s.getInteger("iterations"))
                    .append('/').append(s.getString("salt")).append('/').append(s.getString("hash"));
        }
        return out.toString();
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

    private static String credentialId(String tenant, String type, String authId) {
        return tenant + "/" + type + "/" + authId;
    }

    /** Outcome of a device login. */
    public record AuthResult(Outcome outcome, ThingId device) {
        /**
         * BUSY: the password could not be checked now ({@link PasswordChecks}); RATE_LIMITED, THROTTLED: the
         * caller did not allow the check now. Nothing is known of the password in these cases.
         */
        public enum Outcome { OK, BAD_CREDENTIALS, DISABLED, TENANT_DISABLED, BUSY, RATE_LIMITED, THROTTLED }

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

package dev.doppel.connectivity.rest;

import dev.doppel.connectivity.adapter.modbus.ModbusPlan;
import dev.doppel.connectivity.adapter.modbus.ModbusPlans;
import dev.doppel.connectivity.egress.EgressPolicy;
import dev.doppel.connectivity.egress.EgressRule;
import dev.doppel.connectivity.limits.DeviceLimits;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.connectivity.registry.Certificates;
import dev.doppel.connectivity.registry.DeviceRegistry;
import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.RegistryChanged;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Device registry management in the shape of Eclipse Hono's registry API: devices and their
 * credentials per tenant, and the tenants' trusted CAs. Secrets go in as {@code pwd-plain} and are
 * only ever stored hashed.
 */
@Path("/api/registry")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({Roles.DEVICE_ADMIN, Roles.ADMIN})
public class RegistryResource {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(RegistryResource.class);

    private final DeviceRegistry registry;
    private final Caller caller;
    private final DownstreamSender downstream;
    private final ModbusPlans modbus;
    private final PayloadMappings mappings;
    private final DeviceLimits limits;
    private final EgressPolicy egress;

    public RegistryResource(DeviceRegistry registry, Caller caller, DownstreamSender downstream, ModbusPlans modbus,
            PayloadMappings mappings, DeviceLimits limits, EgressPolicy egress) {
        this.registry = registry;
        this.caller = caller;
        this.downstream = downstream;
        this.modbus = modbus;
        this.mappings = mappings;
        this.limits = limits;
        this.egress = egress;
    }

    /** Tells twin-service (and anyone else) that a device came or went; its twin follows. */
    private Uni<Void> announce(ThingId id, boolean registered) {
        return downstream.deviceLifecycle(new DeviceLifecycleChanged(java.util.UUID.randomUUID().toString(),
                id.toString(), registered, java.time.Instant.now()));
    }

    /**
     * Tells every connectivity instance, this one included, of a change that may end devices'
     * connections (RegistryChanges). The change is made whether or not that works: if Kafka does not
     * take it, open connections stay until they end and other instances' kept answers expire
     * ({@code doppel.registry.answers-kept}), as the log says.
     */
    private Uni<Void> tell(RegistryChanged change) {
        return downstream.registryChange(change).onFailure().recoverWithItem(e -> {
            LOG.warnf("could not tell the other instances that the %s of %s changed: %s", change.what(),
                    change.thingId() != null ? change.thingId() : change.tenant(), e.getMessage());
            return null;
        });
    }

    /**
     * {@code mapping}: the name of one of the tenant's payload mappings, or absent for the default;
     * {@code via}: the device ids of the gateways that may act for this device (Hono's "via");
     * {@code defaults}: Hono's default message properties, of which {@code content-type} is taken: what
     * a message of the device that declares no content type is.
     */
    public record DeviceBody(Boolean enabled, String mapping, List<String> via, Map<String, Object> defaults) {
    }

    public record TenantBody(Boolean enabled) {
    }

    /** Enables or disables a whole tenant (admins only): a disabled tenant's devices cannot connect. */
    @PUT
    @Path("/tenants/{tenant}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> putTenant(@PathParam("tenant") String tenant, TenantBody body) {
        adminOnly("enable or disable tenants");
        thingId(tenant, "tenant");
        boolean enabled = body == null || body.enabled() == null || body.enabled();
        return registry.putTenant(tenant, enabled)
                .call(() -> tell(RegistryChanged.ofTenant(tenant, RegistryChanged.TENANT)))
                .map(v -> Response.noContent().build());
    }

    /** A tenant's resource limits; absent fields are unlimited. */
    public record LimitsBody(@com.fasterxml.jackson.annotation.JsonProperty("max-connections") Integer maxConnections,
            @com.fasterxml.jackson.annotation.JsonProperty("messages-per-second") Double messagesPerSecond) {
    }

    /** Sets a tenant's limits (admins only): connected devices at once, and messages per second per device. */
    @PUT
    @Path("/tenants/{tenant}/limits")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> putLimits(@PathParam("tenant") String tenant, LimitsBody body) {
        adminOnly("set a tenant's limits");
        thingId(tenant, "tenant");
        if (body == null || (body.maxConnections() != null && body.maxConnections() < 0)
                || (body.messagesPerSecond() != null && !(body.messagesPerSecond() > 0))) {
            throw new ProblemException(Problem.of("invalid-limits", "Invalid limits", 400,
                    "max-connections is 0 or more, messages-per-second more than 0; leave one out for no limit", null));
        }
        return registry.putLimits(tenant, new DeviceRegistry.Limits(body.maxConnections(), body.messagesPerSecond()))
                .invoke(() -> limits.forget(tenant)).map(v -> Response.noContent().build());
    }

    @GET
    @Path("/tenants/{tenant}/limits")
    public Uni<LimitsBody> getLimits(@PathParam("tenant") String tenant) {
        thingId(tenant, "tenant");
        return registry.limits(tenant).map(l -> new LimitsBody(l.maxConnections(), l.messagesPerSecond()));
    }

    @GET
    @Path("/tenants/{tenant}")
    public Uni<Map<String, Object>> getTenant(@PathParam("tenant") String tenant) {
        thingId(tenant, "tenant");
        return registry.isTenantEnabled(tenant).map(enabled -> Map.of("tenant", tenant, "enabled", enabled));
    }

    /** Most gateways a device may name in {@code via}. */
    static final int MAX_VIA = 100;
    /** Most credentials a device may have. */
    static final int MAX_CREDENTIALS = 20;

    /** Most entries a tenant's egress allow-list may have. */
    static final int MAX_EGRESS_RULES = 100;

    /**
     * Replaces where the tenant's Modbus devices and broker connections may connect (admins only),
     * e.g. {@code ["10.20.0.0/16:502", "broker.plant.example:8883", "*.plc.plant.example"]}; {@code []}
     * for nowhere. The platform's own endpoints stay refused whatever the list says. Plans and
     * connections already stored are checked again at their next connection.
     */
    @PUT
    @Path("/tenants/{tenant}/egress")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> putEgress(@PathParam("tenant") String tenant, List<String> body) {
        adminOnly("set where a tenant's devices and connections may connect");
        thingId(tenant, "tenant");
        List<String> problems = new ArrayList<>();
        if (body == null || body.size() > MAX_EGRESS_RULES) {
            problems.add("expected a list of at most " + MAX_EGRESS_RULES
                    + " hosts, *.domains, addresses or CIDR ranges, each with an optional :port");
        } else {
            for (String entry : body) {
                try {
                    EgressRule.parse(entry);
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ProblemException(Problem.of("invalid-egress", "Invalid egress allow-list", 400,
                    String.join("; ", problems), null));
        }
        return registry.putEgress(tenant, body.stream().map(String::trim).toList()).map(v -> Response.noContent().build());
    }

    @GET
    @Path("/tenants/{tenant}/egress")
    public Uni<List<String>> getEgress(@PathParam("tenant") String tenant) {
        thingId(tenant, "tenant");
        return registry.egress(tenant);
    }

    /** Most trusted CAs a tenant may have; more is a mistake, not a use. */
    static final int MAX_TRUSTED_CAS = 20;

    /** A trust anchor of a tenant, as in Hono's tenant API: {@code cert} is the CA certificate, PEM or base64 DER. */
    public record TrustedCa(String cert) {
    }

    /**
     * Replaces the CAs whose certificates the tenant's devices log in with (admins only), Hono's
     * {@code trusted-ca}: {@code [{"cert":"-----BEGIN CERTIFICATE-----..."}]}, {@code []} to remove
     * them. A device certificate's issuer names the tenant, so a CA's subject DN can belong to one
     * tenant only (409 otherwise). Takes effect at the next connection.
     */
    @PUT
    @Path("/tenants/{tenant}/trusted-ca")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> putTrustedCas(@PathParam("tenant") String tenant, List<TrustedCa> body) {
        adminOnly("set the CAs a tenant trusts");
        thingId(tenant, "tenant");
        List<X509Certificate> cas = validTrustedCas(body);
        return registry.replaceTrustedCas(tenant, cas)
                .onFailure(DeviceRegistry.TrustedCaTaken.class).transform(e -> new ProblemException(Problem.of(
                        "trusted-ca-taken", "CA trusted by another tenant", 409, e.getMessage(), null)))
                .call(() -> tell(RegistryChanged.ofTenant(tenant, RegistryChanged.TRUST)))
                .map(v -> Response.noContent().build());
    }

    /** Every problem of the list at once, as for credentials. */
    private static List<X509Certificate> validTrustedCas(List<TrustedCa> body) {
        List<String> problems = new ArrayList<>();
        List<X509Certificate> out = new ArrayList<>();
        if (body == null) {
            problems.add("expected a list of CA certificates, e.g. [{\"cert\":\"-----BEGIN CERTIFICATE-----\\n...\"}]");
        } else if (body.size() > MAX_TRUSTED_CAS) {
            problems.add("at most " + MAX_TRUSTED_CAS + " trusted CAs per tenant");
        } else {
            Date now = new Date();
            for (int i = 0; i < body.size(); i++) {
                String at = "trusted-ca " + i + ": ";
                X509Certificate ca;
                try {
                    ca = Certificates.parse(body.get(i) == null ? null : body.get(i).cert());
                } catch (IllegalArgumentException e) {
                    problems.add(at + e.getMessage());
                    continue;
                }
                List<String> wrong = Certificates.caProblems(ca, now);
                if (!wrong.isEmpty()) {
                    wrong.forEach(w -> problems.add(at + w));
                } else if (out.contains(ca)) {
                    problems.add(at + Certificates.subject(ca) + " appears twice");
                } else {
                    out.add(ca);
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ProblemException(Problem.of("invalid-trusted-ca", "Invalid trusted CA", 400,
                    String.join("; ", problems), null));
        }
        return out;
    }

    /** The tenant's trusted CAs, each with its subject DN and validity; the certificates are public. */
    @GET
    @Path("/tenants/{tenant}/trusted-ca")
    public Uni<List<Map<String, Object>>> getTrustedCas(@PathParam("tenant") String tenant) {
        thingId(tenant, "tenant");
        return registry.listTrustedCas(tenant).map(cas -> cas.stream().map(ca -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("subject-dn", Certificates.subject(ca));
            out.put("not-before", ca.getNotBefore().toInstant().toString());
            out.put("not-after", ca.getNotAfter().toInstant().toString());
            out.put("cert", Certificates.pem(ca));
            return out;
        }).toList());
    }

    /** Largest revocation list taken, DER: about 6,000 revoked certificates. */
    static final int MAX_CRL_BYTES = 256 * 1024;

    /** A CA's certificate revocation list: {@code crl} in PEM ({@code -----BEGIN X509 CRL-----}) or base64 DER. */
    public record Crl(String crl) {
    }

    /**
     * Replaces the revocation lists of the tenant's trusted CAs (admins only, as the CAs themselves):
     * {@code [{"crl":"-----BEGIN X509 CRL-----..."}]}, one full CRL per CA, each signed by one of the
     * tenant's trusted CAs; {@code []} removes them. A certificate a list names is refused from the
     * next connection on. A list older than the one stored for its CA is refused (409).
     */
    @PUT
    @Path("/tenants/{tenant}/crls")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> putCrls(@PathParam("tenant") String tenant, List<Crl> body) {
        adminOnly("set the revocation lists of a tenant's CAs");
        thingId(tenant, "tenant");
        return registry.listTrustedCas(tenant).map(cas -> validCrls(body, cas))
                .chain(crls -> registry.replaceCrls(tenant, crls))
                .onFailure(DeviceRegistry.CrlOutdated.class).transform(e -> new ProblemException(Problem.of(
                        "crl-outdated", "Older revocation list", 409, e.getMessage(), null)))
                .call(() -> tell(RegistryChanged.ofTenant(tenant, RegistryChanged.TRUST)))
                .map(v -> Response.noContent().build());
    }

    /** Every problem of the list at once, as for trusted CAs. */
    private static List<DeviceRegistry.RevocationList> validCrls(List<Crl> body, List<X509Certificate> cas) {
        List<String> problems = new ArrayList<>();
        List<DeviceRegistry.RevocationList> out = new ArrayList<>();
        if (body == null) {
            problems.add("expected a list of CRLs, e.g. [{\"crl\":\"-----BEGIN X509 CRL-----\\n...\"}]");
        } else if (body.size() > MAX_TRUSTED_CAS) {
            problems.add("at most " + MAX_TRUSTED_CAS + " CRLs per tenant, one per trusted CA");
        } else {
            for (int i = 0; i < body.size(); i++) {
                String at = "crl " + i + ": ";
                X509CRL crl;
                try {
                    crl = Certificates.parseCrl(body.get(i) == null ? null : body.get(i).crl());
                } catch (IllegalArgumentException e) {
                    problems.add(at + e.getMessage());
                    continue;
                }
                int size = Certificates.size(crl);
                if (size > MAX_CRL_BYTES) {
                    problems.add(at + "it is " + size + " bytes; at most " + MAX_CRL_BYTES);
                    continue;
                }
                Certificates.CrlCheck check = Certificates.checkCrl(crl, cas);
                if (!check.problems().isEmpty()) {
                    check.problems().forEach(w -> problems.add(at + w));
                    continue;
                }
                String ca = Certificates.fingerprint(check.issuer());
                if (out.stream().anyMatch(c -> c.caFingerprint().equals(ca))) {
                    problems.add(at + "a second CRL of " + Certificates.subject(check.issuer()) + "; give one per CA");
                } else {
                    out.add(new DeviceRegistry.RevocationList(ca, crl));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ProblemException(Problem.of("invalid-crl", "Invalid certificate revocation list", 400,
                    String.join("; ", problems), null));
        }
        return out;
    }

    /** The tenant's revocation lists, each with its issuer, dates and how many certificates it revokes. */
    @GET
    @Path("/tenants/{tenant}/crls")
    public Uni<List<Map<String, Object>>> getCrls(@PathParam("tenant") String tenant) {
        thingId(tenant, "tenant");
        Date now = new Date();
        return registry.listCrls(tenant).map(crls -> crls.stream().map(c -> {
            X509CRL crl = c.crl();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("issuer-dn", crl.getIssuerX500Principal().getName(javax.security.auth.x500.X500Principal.RFC2253));
            out.put("this-update", crl.getThisUpdate().toInstant().toString());
            out.put("next-update", crl.getNextUpdate() == null ? null : crl.getNextUpdate().toInstant().toString());
            out.put("stale", crl.getNextUpdate() != null && crl.getNextUpdate().before(now));
            out.put("revoked", crl.getRevokedCertificates() == null ? 0 : crl.getRevokedCertificates().size());
            out.put("crl", Certificates.pem(crl));
            return out;
        }).toList());
    }

    /** {@code pwd-plain} for a password, {@code key} (base64) for a pre-shared key, nothing for a certificate. */
    public record Secret(@com.fasterxml.jackson.annotation.JsonProperty("pwd-plain") String pwdPlain, String key) {
    }

    public record Credential(String type, @com.fasterxml.jackson.annotation.JsonProperty("auth-id") String authId,
            List<Secret> secrets) {
    }

    @PUT
    @Path("/devices/{tenant}/{deviceId}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> putDevice(@PathParam("tenant") String tenant, @PathParam("deviceId") String deviceId,
            DeviceBody body) {
        ThingId id = thingId(tenant, deviceId);
        boolean enabled = body == null || body.enabled() == null || body.enabled();
        String mapping = body == null || body.mapping() == null || body.mapping().isBlank() ? null : body.mapping();
        List<String> via = body == null || body.via() == null ? List.of() : body.via();
        if (via.size() > MAX_VIA) {
            throw new ProblemException(Problem.of("invalid-via", "Invalid gateway", 400,
                    "via lists at most " + MAX_VIA + " gateways", null));
        }
        for (String gateway : via) {
            if (gateway == null || !ThingId.isValid(tenant + ":" + gateway) || gateway.equals(deviceId)) {
                throw new ProblemException(Problem.of("invalid-via", "Invalid gateway", 400,
                        "via lists device ids of gateways of the same tenant, not the device itself", null));
            }
        }
        String defaultContentType = defaultContentType(body == null ? null : body.defaults());
        Uni<Boolean> mappingKnown = mapping == null ? Uni.createFrom().item(true)
                : mappings.find(tenant, mapping).map(Optional::isPresent);
        return mappingKnown.chain(known -> {
            if (!known) {
                throw new ProblemException(Problem.of("mapping-not-found", "Unknown mapping", 400,
                        "tenant " + tenant + " has no payload mapping named " + mapping, null));
            }
            return registry.putDevice(id, enabled, mapping, via, defaultContentType);
        }).invoke(() -> mappings.forget(id))
                .call(() -> tell(RegistryChanged.of(id, RegistryChanged.DEVICE)))
                // Announced on every PUT, not only the first: announcing is idempotent, and a registration
                // lost downstream (a recreated topic) comes back by registering the device again.
                .chain(created -> announce(id, true).replaceWith(created
                        ? Response.created(URI.create("/api/registry/devices/" + tenant + "/" + deviceId))
                                .entity(Map.of("id", deviceId, "tenant", tenant, "enabled", enabled)).build()
                        : Response.noContent().build()));
    }

    /** type/subtype with optional parameters (RFC 6838 names). */
    private static final java.util.regex.Pattern MEDIA_TYPE = java.util.regex.Pattern.compile(
            "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\\s*;\\s*[^;\\s=\\p{Cntrl}]+=[^;\\p{Cntrl}]*)*");

    /** Hono's device defaults: only {@code content-type} means something here; anything else is refused, not ignored. */
    private static String defaultContentType(Map<String, Object> defaults) {
        if (defaults == null || defaults.isEmpty()) {
            return null;
        }
        for (String key : defaults.keySet()) {
            if (!"content-type".equals(key)) {
                throw new ProblemException(Problem.of("unsupported-default", "Unsupported device default", 400,
                        "defaults may name content-type only, not " + key, null));
            }
        }
        Object value = defaults.get("content-type");
        if (value == null) {
            return null;
        }
        if (!(value instanceof String type) || type.length() > 255 || !MEDIA_TYPE.matcher(type.trim()).matches()) {
            throw new ProblemException(Problem.of("invalid-content-type", "Invalid default content type", 400,
                    "defaults.content-type must be a media type such as application/json", null));
        }
        return type.trim();
    }

    @GET
    @Path("/devices/{tenant}/{deviceId}")
    public Uni<Map<String, Object>> getDevice(@PathParam("tenant") String tenant,
            @PathParam("deviceId") String deviceId) {
        ThingId id = thingId(tenant, deviceId);
        return registry.findDevice(id).map(d -> d.map(device -> {
            Map<String, Object> out = new java.util.LinkedHashMap<>(Map.of("id", deviceId, "tenant", tenant,
                    "enabled", device.enabled(), "created", device.created().toString()));
            if (device.mapping() != null) {
                out.put("mapping", device.mapping());
            }
            if (!device.via().isEmpty()) {
                out.put("via", device.via());
            }
            if (device.defaultContentType() != null) {
                out.put("defaults", Map.of("content-type", device.defaultContentType()));
            }
            return out;
        }).orElseThrow(() -> notFound(id)));
    }

    @DELETE
    @Path("/devices/{tenant}/{deviceId}")
    public Uni<Response> deleteDevice(@PathParam("tenant") String tenant, @PathParam("deviceId") String deviceId) {
        ThingId id = thingId(tenant, deviceId);
        return registry.deleteDevice(id).chain(deleted -> {
            if (!deleted) {
                throw notFound(id);
            }
            return modbus.delete(id).chain(() -> announce(id, false))
                    .call(() -> tell(RegistryChanged.of(id, RegistryChanged.DEVICE)))
                    .replaceWith(Response.noContent().build());
        });
    }

    /**
     * Sets how a Modbus TCP device is polled (M2M): its address, unit id, period and registers. One
     * connectivity instance polls it from then on; its values become telemetry of the plan's feature.
     */
    @PUT
    @Path("/devices/{tenant}/{deviceId}/modbus")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> putModbusPlan(@PathParam("tenant") String tenant, @PathParam("deviceId") String deviceId,
            ModbusPlan body) {
        ThingId id = thingId(tenant, deviceId);
        ModbusPlan plan;
        try {
            plan = (body == null ? new ModbusPlan(null, null, null, null, null, null) : body).validated();
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.of("invalid-modbus-plan", "Invalid Modbus poll plan", 400,
                    e.getMessage(), null));
        }
        return registry.findDevice(id).chain(device -> {
            if (device.isEmpty()) {
                throw notFound(id);
            }
            return egress.check(tenant, plan.host(), plan.port(), "modbus").chain(() -> modbus.put(id, plan));
        }).map(created -> (created ? Response.status(Response.Status.CREATED) : Response.ok()).entity(plan).build());
    }

    @GET
    @Path("/devices/{tenant}/{deviceId}/modbus")
    public Uni<ModbusPlan> getModbusPlan(@PathParam("tenant") String tenant, @PathParam("deviceId") String deviceId) {
        ThingId id = thingId(tenant, deviceId);
        return modbus.find(id).map(plan -> plan.orElseThrow(() -> noPlan(id)));
    }

    @DELETE
    @Path("/devices/{tenant}/{deviceId}/modbus")
    public Uni<Response> deleteModbusPlan(@PathParam("tenant") String tenant, @PathParam("deviceId") String deviceId) {
        ThingId id = thingId(tenant, deviceId);
        return modbus.delete(id).map(deleted -> {
            if (!deleted) {
                throw noPlan(id);
            }
            return Response.noContent().build();
        });
    }

    private static ProblemException noPlan(ThingId id) {
        return new ProblemException(Problem.of("modbus-plan-not-found", "No Modbus poll plan", 404,
                "device " + id.deviceId() + " of tenant " + id.tenant() + " has no Modbus poll plan", null));
    }

    @PUT
    @Path("/credentials/{tenant}/{deviceId}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> putCredentials(@PathParam("tenant") String tenant, @PathParam("deviceId") String deviceId,
            List<Credential> credentials) {
        ThingId id = thingId(tenant, deviceId);
        List<DeviceRegistry.NewCredential> wanted = validCredentials(credentials);
        return registry.findDevice(id).chain(device -> {
            if (device.isEmpty()) {
                throw notFound(id);
            }
            return registry.replaceCredentials(id, wanted);
        }).onFailure(DeviceRegistry.AuthIdTaken.class).transform(e -> new ProblemException(Problem.of(
                "auth-id-taken", "Auth-id in use", 409, e.getMessage(), null)))
                .call(() -> tell(RegistryChanged.of(id, RegistryChanged.CREDENTIALS)))
                .map(v -> Response.noContent().build());
    }

    /** Hono's credential list: every problem in it is named at once. */
    private static List<DeviceRegistry.NewCredential> validCredentials(List<Credential> credentials) {
        List<String> problems = new ArrayList<>();
        List<DeviceRegistry.NewCredential> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        if (credentials == null) {
            problems.add("expected a list of credentials, e.g. [{\"type\":\"hashed-password\",\"auth-id\":\"...\","
                    + "\"secrets\":[{\"pwd-plain\":\"...\"}]}]");
        } else if (credentials.size() > MAX_CREDENTIALS) {
            // Each password is hashed on the way in: a list without bound would be CPU without bound.
            problems.add("at most " + MAX_CREDENTIALS + " credentials per device");
        } else {
            for (int i = 0; i < credentials.size(); i++) {
                Credential c = credentials.get(i);
                String at = "credential " + i + ": ";
                boolean certificate = c != null && DeviceRegistry.X509_CERT.equals(c.type());
                if (c == null || c.authId() == null || c.authId().isBlank()
                        || !certificate && !DeviceRegistry.isAuthId(c.authId())) {
                    problems.add(at + "auth-id is required: up to " + DeviceRegistry.MAX_AUTH_ID
                            + " characters, no '@' and no control characters");
                    continue;
                }
                String authId = c.authId();
                if (certificate) {
                    // Hono's x509-cert: the subject DN, compared in RFC 2253 form whatever the spacing given.
                    try {
                        authId = Certificates.normalizeDn(authId);
                    } catch (IllegalArgumentException e) {
                        authId = "";
                    }
                    if (authId.isEmpty()) {
                        problems.add(at + "the auth-id of an x509-cert credential is the subject DN of the device's "
                                + "certificate in RFC 2253 form, e.g. CN=device-1,O=ACME");
                        continue;
                    }
                }
                if (!seen.add(c.type() + "/" + authId)) {
                    problems.add(at + "auth-id " + authId + " appears twice for type " + c.type());
                }
                if (certificate) {
                    // No secret: a certificate the tenant's trusted CA issued is the proof. Hono sends [{}].
                    boolean secretGiven = c.secrets() != null && (c.secrets().size() > 1 || c.secrets().size() == 1
                            && c.secrets().get(0) != null
                            && (c.secrets().get(0).pwdPlain() != null || c.secrets().get(0).key() != null));
                    if (secretGiven) {
                        problems.add(at + "an x509-cert credential has no secret: [{}] or none");
                    } else {
                        out.add(new DeviceRegistry.ClientCertificate(authId));
                    }
                    continue;
                }
                if (c.secrets() == null || c.secrets().size() != 1) {
                    problems.add(at + "exactly one secret is expected");
                    continue;
                }
                Secret secret = c.secrets().get(0);
                if (DeviceRegistry.HASHED_PASSWORD.equals(c.type())) {
                    if (secret.pwdPlain() == null || secret.pwdPlain().length() < 8) {
                        problems.add(at + "pwd-plain of at least 8 characters is required");
                    } else {
                        out.add(new DeviceRegistry.Password(c.authId(), secret.pwdPlain()));
                    }
                } else if (DeviceRegistry.PSK.equals(c.type())) {
                    byte[] key = null;
                    try {
                        key = secret.key() == null ? null : Base64.getDecoder().decode(secret.key());
                    } catch (IllegalArgumentException e) {
                        // reported below
                    }
                    if (key == null || key.length < 16 || key.length > 64) {
                        problems.add(at + "key is the pre-shared key in base64, 16 to 64 bytes");
                    } else {
                        out.add(new DeviceRegistry.PreSharedKey(c.authId(), key));
                    }
                } else {
                    problems.add(at + "type is hashed-password, psk or x509-cert");
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ProblemException(Problem.of("invalid-credentials", "Invalid credentials", 400,
                    String.join("; ", problems), null));
        }
        return out;
    }

    @GET
    @Path("/credentials/{tenant}/{deviceId}")
    public Uni<List<org.bson.Document>> getCredentials(@PathParam("tenant") String tenant,
            @PathParam("deviceId") String deviceId) {
        return registry.listCredentials(thingId(tenant, deviceId));
    }

    /** Parses the ids and checks the tenant: another tenant's devices read as missing. */
    /** A tenant's settings that only dt-admin changes: 403 for anyone else, saying what they tried. */
    private void adminOnly(String what) {
        if (!caller.isAdmin()) {
            throw new ProblemException(Problem.of("forbidden", "Forbidden", 403, "only dt-admin may " + what, null));
        }
    }

    private ThingId thingId(String tenant, String deviceId) {
        ThingId id;
        try {
            id = ThingId.of(tenant, deviceId);
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.of("invalid-device-id", "Invalid device id", 400, e.getMessage(), null));
        }
        if (!caller.mayAccess(id.tenant())) {
            throw notFound(id);
        }
        return id;
    }

    private static ProblemException notFound(ThingId id) {
        return new ProblemException(Problem.of("device-not-found", "Device not found", 404,
                "device " + id.deviceId() + " of tenant " + id.tenant() + " is not registered", null));
    }
}

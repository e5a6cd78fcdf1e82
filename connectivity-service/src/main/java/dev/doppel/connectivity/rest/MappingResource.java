package dev.doppel.connectivity.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.connectivity.mapping.JsonataMapping;
import dev.doppel.connectivity.mapping.MappedReport;
import dev.doppel.connectivity.mapping.MappingException;
import dev.doppel.connectivity.mapping.MappingPool;
import dev.doppel.connectivity.mapping.PayloadMappings;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * A tenant's custom payload mappings (JSONata), which devices name in their registration, and a
 * trial endpoint that runs a mapping on a sample payload exactly as it would run for a device.
 */
@Path("/api/registry/mappings/{tenant}/{name}")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({Roles.DEVICE_ADMIN, Roles.ADMIN})
public class MappingResource {

    private static final NamedInTenant NAMED = new NamedInTenant("payload mapping", "mapping");

    public record MappingBody(String expression) {
    }

    /**
     * A sample message: {@code payload} as JSON, or {@code payloadBase64} for any content type;
     * {@code expression} tries an unsaved expression instead of the stored one.
     */
    public record TrialBody(JsonNode payload, String payloadBase64, String contentType, String deviceId,
            String channel, String feature, String expression) {
    }

    private final PayloadMappings mappings;
    private final Caller caller;
    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public MappingResource(PayloadMappings mappings, Caller caller, ObjectMapper json, MeterRegistry metrics) {
        this.mappings = mappings;
        this.caller = caller;
        this.json = json;
        this.metrics = metrics;
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Create or replace a payload mapping (JSONata)")
    public Uni<Response> put(@PathParam("tenant") String tenant, @PathParam("name") String name, MappingBody body) {
        check(tenant, name);
        String expression = body == null ? null : body.expression();
        compile(expression);
        return mappings.put(tenant, name, expression).map(created -> created
                ? Response.created(URI.create("/api/registry/mappings/" + tenant + "/" + name))
                        .entity(Map.of("tenant", tenant, "name", name, "expression", expression)).build()
                : Response.noContent().build());
    }

    @GET
    @Operation(summary = "Read a payload mapping")
    public Uni<Map<String, Object>> get(@PathParam("tenant") String tenant, @PathParam("name") String name) {
        check(tenant, name);
        return mappings.find(tenant, name).map(e -> e.<Map<String, Object>>map(expression -> Map.of("tenant", tenant,
                "name", name, "expression", expression)).orElseThrow(() -> notFound(tenant, name)));
    }

    @DELETE
    @Operation(summary = "Delete a payload mapping no device uses")
    public Uni<Response> delete(@PathParam("tenant") String tenant, @PathParam("name") String name) {
        check(tenant, name);
        return mappings.delete(tenant, name)
                .onFailure(PayloadMappings.InUse.class).transform(e -> new ProblemException(Problem.of(
                        "mapping-in-use", "Mapping in use", 409, e.getMessage(), null)))
                .map(deleted -> {
                    if (!deleted) {
                        throw notFound(tenant, name);
                    }
                    return Response.noContent().build();
                });
    }

    @POST
    @Path("try")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Run a mapping on a sample payload",
            description = "Answers what the twin would receive, or the problem the device's message would get.")
    public Uni<Map<String, Object>> trial(@PathParam("tenant") String tenant, @PathParam("name") String name,
            TrialBody body) {
        check(tenant, name);
        if (body == null || (body.payload() == null) == (body.payloadBase64() == null)) {
            throw new ProblemException(Problem.of("invalid-trial", "Invalid trial", 400,
                    "give the sample as either payload (JSON) or payloadBase64", null));
        }
        byte[] payload;
        String contentType = body.contentType();
        try {
            if (body.payload() != null) {
                payload = json.writeValueAsBytes(body.payload());
                contentType = contentType == null ? "application/json" : contentType;
            } else {
                payload = Base64.getDecoder().decode(body.payloadBase64());
            }
        } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ProblemException(Problem.of("invalid-trial", "Invalid trial", 400,
                    "payloadBase64 is not base64", null));
        }
        ThingId device;
        try {
            device = ThingId.of(tenant, body.deviceId() == null ? "trial-device" : body.deviceId());
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.of("invalid-device-id", "Invalid device id", 400, e.getMessage(), null));
        }
        String channel = body.channel() == null ? "telemetry" : body.channel();
        String type = contentType;
        Uni<String> expression = body.expression() != null ? Uni.createFrom().item(body.expression())
                : mappings.find(tenant, name).map(e -> e.orElseThrow(() -> notFound(tenant, name)));
        return expression.chain(e -> {
            JsonataMapping mapping = compile(e);
            long start = System.nanoTime();
            return mappings.trial(mapping, device, channel, payload, type, body.feature()).map(report -> {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("features", report.features());
                out.put("attributes", report.attributes());
                out.put("micros", (System.nanoTime() - start) / 1_000);
                return out;
            }).onFailure(MappingException.class).transform(failure -> {
                MappingException ex = (MappingException) failure;
                metrics.counter("doppel.mapping.trials", "outcome", ex.reason()).increment();
                return new ProblemException(MappingPool.BUSY.equals(ex.reason())
                        ? Problem.of(ex.reason(), "Mappings busy", 503, ex.getMessage(), null)
                        : Problem.of(ex.reason(), "Mapping failed", 422, ex.getMessage(), null));
            });
        });
    }

    private JsonataMapping compile(String expression) {
        try {
            return mappings.compile(expression);
        } catch (MappingException e) {
            throw new ProblemException(Problem.of(e.reason(), "Invalid mapping", 400, e.getMessage(), null));
        }
    }

    private void check(String tenant, String name) {
        NAMED.check(caller, tenant, name);
    }

    private static ProblemException notFound(String tenant, String name) {
        return NAMED.notFound(tenant, name);
    }

}

package dev.doppel.twin.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import dev.doppel.twin.mapping.TwinApiMapper;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.model.TwinPath;
import dev.doppel.twin.model.TwinTree;
import dev.doppel.twin.service.TwinEdits.Conditions;
import dev.doppel.twin.service.TwinEdits.Edit;
import dev.doppel.twin.service.TwinEdits;
import dev.doppel.twin.service.TwinHistory;
import dev.doppel.twin.service.TwinService;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * Eclipse Ditto's things API v2: the thing and every level below it
 * ({@code /attributes[/path]}, {@code /definition}, {@code /features[/id[/definition|/properties|/desiredProperties[/path]]]}),
 * with {@code ETag}/{@code If-Match}/{@code If-None-Match}, merge PATCH (RFC 7396) and {@code ?fields=};
 * plus the delta of desired and reported state, which Ditto lacks.
 */
@Path("/api/2/things")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.ADMIN})
public class ThingsResource {

    public static final String MERGE_PATCH = "application/merge-patch+json";

    private final TwinService twins;
    private final TwinEdits edits;
    private final TwinHistory history;
    private final Caller caller;
    private final ObjectMapper json;

    public ThingsResource(TwinService twins, TwinEdits edits, TwinHistory history, Caller caller, ObjectMapper json) {
        this.twins = twins;
        this.edits = edits;
        this.history = history;
        this.caller = caller;
        this.json = json;
    }

    @GET
    @Operation(summary = "Retrieve several things", description = "?ids=a,b; things the caller may not read are left out.")
    public Uni<List<Map<String, Object>>> getThings(@QueryParam("ids") String ids) {
        if (ids == null || ids.isBlank()) {
            throw new ProblemException(Problem.of("ids-required", "Parameter ids is required", 400,
                    "list things with ?ids=tenant:a,tenant:b (at most 100); search comes with /api/2/search/things",
                    null));
        }
        List<ThingId> wanted = new ArrayList<>();
        for (String id : ids.split(",")) {
            ThingId parsed = ProblemException.parseThingId(id.trim());
            if (caller.mayAccess(parsed.tenant())) {
                wanted.add(parsed);
            }
        }
        if (wanted.size() > 100) {
            throw new ProblemException(Problem.of("too-many-ids", "Too many ids", 400, "at most 100 ids", null));
        }
        Map<String, Integer> order = new LinkedHashMap<>();
        wanted.forEach(w -> order.putIfAbsent(w.toString(), order.size()));
        return twins.findAll(wanted).map(found -> found.stream()
                .sorted((a, b) -> order.get(a.thingId().toString()) - order.get(b.thingId().toString()))
                .map(TwinApiMapper::toApi).toList());
    }

    @GET
    @Path("/{thingId}")
    @Operation(summary = "Retrieve a thing", description = "Ditto's JSON shape; ETag is the revision; ?fields= selects parts.")
    public Uni<Response> getThing(@PathParam("thingId") String thingId, @QueryParam("fields") String fields,
            @HeaderParam("If-None-Match") String ifNoneMatch) {
        ThingId id = readable(thingId);
        return twins.find(id).map(found -> {
            Twin twin = found.orElseThrow(() -> thingNotFound(id));
            if (ifNoneMatch != null && Arrays.stream(ifNoneMatch.split(",")).map(String::trim)
                    .anyMatch(t -> t.equals("*") || t.equals(TwinEdits.etag(twin)))) {
                return withTag(Response.notModified(), twin).build();
            }
            return withTag(Response.ok(TwinApiMapper.select(TwinApiMapper.toApi(twin), fields)), twin).build();
        });
    }

    @GET
    @Path("/{thingId}/history")
    @Operation(summary = "History of a thing", description = "?path=&from=&to=&limit= gives values in time order with revisions; ?revision= or ?at= gives the whole thing as it was.")
    public Uni<Response> history(@PathParam("thingId") String thingId, @QueryParam("path") String path,
            @QueryParam("from") String from, @QueryParam("to") String to, @QueryParam("limit") Integer limit,
            @QueryParam("revision") Long revision, @QueryParam("at") String at) {
        ThingId id = readable(thingId);
        if (revision != null || at != null) {
            return history.asOf(id, revision, at == null ? null : time("at", at)).map(thing -> Response
                    .ok(thing.orElseThrow(() -> new ProblemException(Problem.of("not-in-history", "Not in history", 404,
                            "thing '" + id + "' did not exist at " + (revision != null ? "revision " + revision : at)
                                    + ", or that part of its history has passed the retention", null))))
                    .build());
        }
        if (path != null && !path.isEmpty()) {
            parsePath(path);
        }
        int max = limit == null ? 100 : limit;
        if (max < 1 || max > 1000) {
            throw new ProblemException(Problem.of("invalid-limit", "Invalid limit", 400, "limit is 1 to 1000", null));
        }
        return history.values(id, path, from == null ? null : time("from", from), to == null ? null : time("to", to), max)
                .map(entries -> Response.ok(entries.stream().map(e -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("path", e.path());
                    m.put("value", e.value());
                    m.put("revision", e.revision());
                    m.put("time", e.time().toString());
                    return m;
                }).toList()).build());
    }

    @GET
    @Path("/{thingId}/history/summary")
    @Operation(summary = "A property's history summarized per interval", description = "?path= (required) names one "
            + "value; numeric values in [from, to) (default: the last day) give count, min, max and avg per interval "
            + "(default: a hundredth of the range; at most 1000 intervals). Intervals without values are left out.")
    public Uni<Map<String, Object>> historySummary(@PathParam("thingId") String thingId, @QueryParam("path") String path,
            @QueryParam("from") String from, @QueryParam("to") String to, @QueryParam("interval") String interval) {
        ThingId id = readable(thingId);
        if (path == null || path.isEmpty()) {
            throw new ProblemException(Problem.of("invalid-path", "Invalid path", 400,
                    "path names the value to summarize, e.g. features/telemetry/properties/temperature", null));
        }
        parsePath(path);
        return history.summarize(id, path, from == null ? null : time("from", from), to == null ? null : time("to", to),
                interval).map(ThingsResource::summary);
    }

    private static Map<String, Object> summary(TwinHistory.Summary s) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("path", s.path());
        out.put("from", s.from().toString());
        out.put("to", s.to().toString());
        out.put("interval", s.interval().toMillis() + "ms");
        out.put("buckets", s.buckets().stream().map(b -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("start", b.start().toString());
            m.put("count", b.count());
            m.put("min", b.min());
            m.put("max", b.max());
            m.put("avg", b.avg());
            return m;
        }).toList());
        return out;
    }

    private static java.time.Instant time(String name, String value) {
        try {
            return java.time.Instant.parse(value);
        } catch (java.time.format.DateTimeParseException e) {
            throw new ProblemException(Problem.of("invalid-time", "Invalid time", 400,
                    name + " takes an ISO-8601 time like 2026-11-22T10:00:00Z", null));
        }
    }

    @GET
    @Path("/{thingId}/{path: .+}")
    @Operation(summary = "Retrieve a part of a thing", description = "Any path of the thing; /delta and features/{id}/delta give desired values not yet reported.")
    public Uni<Response> getPart(@PathParam("thingId") String thingId, @PathParam("path") String path) {
        ThingId id = readable(thingId);
        return twins.find(id).map(found -> {
            Twin twin = found.orElseThrow(() -> thingNotFound(id));
            if ("delta".equals(path)) {
                return withTag(Response.ok(Map.of("features", twin.delta())), twin).build();
            }
            if (path.startsWith("features/") && path.endsWith("/delta") && path.split("/").length == 3) {
                String feature = path.split("/")[1];
                if (!twin.features().containsKey(feature)) {
                    throw notFound(id, path);
                }
                Object open = twin.delta().getOrDefault(feature, Map.of());
                return withTag(Response.ok(Map.of("desiredProperties", open)), twin).build();
            }
            TwinPath p = parsePath(path);
            Map<String, Object> tree = TwinTree.of(twin);
            if (!TwinTree.exists(tree, p)) {
                throw notFound(id, path);
            }
            return withTag(Response.ok(raw(TwinTree.get(tree, p))), twin).build();
        });
    }

    @PUT
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    @Path("/{thingId}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Create or replace a thing", description = "201 with Location when created, 204 when replaced.")
    public Uni<Response> putThing(@PathParam("thingId") String thingId, String body,
            @HeaderParam("If-Match") String ifMatch, @HeaderParam("If-None-Match") String ifNoneMatch) {
        return write(thingId, "", Edit.PUT, body, ifMatch, ifNoneMatch);
    }

    @PUT
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    @Path("/{thingId}/{path: .+}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Create or replace a part of a thing")
    public Uni<Response> putPart(@PathParam("thingId") String thingId, @PathParam("path") String path, String body,
            @HeaderParam("If-Match") String ifMatch, @HeaderParam("If-None-Match") String ifNoneMatch) {
        return write(thingId, path, Edit.PUT, body, ifMatch, ifNoneMatch);
    }

    @PATCH
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    @Path("/{thingId}")
    @Consumes(MERGE_PATCH)
    @Operation(summary = "Merge a JSON merge patch (RFC 7396) into a thing")
    public Uni<Response> patchThing(@PathParam("thingId") String thingId, String body,
            @HeaderParam("If-Match") String ifMatch, @HeaderParam("If-None-Match") String ifNoneMatch) {
        return write(thingId, "", Edit.PATCH, body, ifMatch, ifNoneMatch);
    }

    @PATCH
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    @Path("/{thingId}/{path: .+}")
    @Consumes(MERGE_PATCH)
    @Operation(summary = "Merge a JSON merge patch (RFC 7396) into a part of a thing")
    public Uni<Response> patchPart(@PathParam("thingId") String thingId, @PathParam("path") String path, String body,
            @HeaderParam("If-Match") String ifMatch, @HeaderParam("If-None-Match") String ifNoneMatch) {
        return write(thingId, path, Edit.PATCH, body, ifMatch, ifNoneMatch);
    }

    @DELETE
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    @Path("/{thingId}")
    public Uni<Response> deleteThing(@PathParam("thingId") String thingId, @HeaderParam("If-Match") String ifMatch) {
        return write(thingId, "", Edit.DELETE, null, ifMatch, null);
    }

    @DELETE
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    @Path("/{thingId}/{path: .+}")
    public Uni<Response> deletePart(@PathParam("thingId") String thingId, @PathParam("path") String path,
            @HeaderParam("If-Match") String ifMatch) {
        return write(thingId, path, Edit.DELETE, null, ifMatch, null);
    }

    private Uni<Response> write(String thingId, String path, Edit edit, String body, String ifMatch,
            String ifNoneMatch) {
        ThingId id = readable(thingId);
        TwinPath p = parsePath(path);
        if (!p.isDesired() && !caller.isAdmin()) {
            // Operators steer devices through desired state; reported state and structure are the admin's.
            throw new ProblemException(Problem.of("forbidden", "Forbidden", 403,
                    "only dt-admin may change '" + (path.isEmpty() ? "the thing" : path)
                            + "'; operators write features/{id}/desiredProperties", null));
        }
        Object value = edit == Edit.DELETE ? null : parseBody(body);
        return edits.edit(id, p, edit, value, new Conditions(ifMatch, ifNoneMatch)).map(written -> {
            if (written.twin() == null) {
                return Response.noContent().build();
            }
            if (edit == Edit.PUT && written.created()) {
                String location = "/api/2/things/" + id + (path.isEmpty() ? "" : "/" + path);
                Object created = path.isEmpty() ? TwinApiMapper.toApi(written.twin())
                        : raw(TwinTree.get(TwinTree.of(written.twin()), p));
                return withTag(Response.created(URI.create(location)).entity(created), written.twin()).build();
            }
            return withTag(Response.noContent(), written.twin()).build();
        });
    }

    private ThingId readable(String thingId) {
        ThingId id = ProblemException.parseThingId(thingId);
        if (!caller.mayAccess(id.tenant())) {
            // Another tenant's thing reads exactly like a missing one: its existence is not revealed.
            throw thingNotFound(id);
        }
        return id;
    }

    private static TwinPath parsePath(String path) {
        try {
            return TwinPath.parse(path);
        } catch (InvalidReport e) {
            throw new ProblemException(Problem.of(e.reason(), "Invalid path", 400, e.getMessage(), null));
        }
    }

    private Object parseBody(String body) {
        if (body == null || body.isBlank()) {
            throw new ProblemException(Problem.of("invalid-json", "Invalid JSON", 400, "the request has no body", null));
        }
        try {
            return json.readValue(body, Object.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ProblemException(Problem.of("invalid-json", "Invalid JSON", 400,
                    "the body is not valid JSON: " + e.getOriginalMessage(), null));
        }
    }

    /** A JSON value as the response entity, scalars included. */
    private String raw(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Response.ResponseBuilder withTag(Response.ResponseBuilder r, Twin twin) {
        return r.header("ETag", TwinEdits.etag(twin));
    }

    static ProblemException thingNotFound(ThingId id) {
        return new ProblemException(Problem.of("thing-not-found", "Thing not found", 404,
                "The thing with id '" + id + "' could not be found or the requester may not read it.", null));
    }

    private static ProblemException notFound(ThingId id, String path) {
        return new ProblemException(Problem.of("path-not-found", "Not found", 404,
                "'" + path + "' does not exist in thing '" + id + "'", null));
    }
}

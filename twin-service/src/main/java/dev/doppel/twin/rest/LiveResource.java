package dev.doppel.twin.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.search.Rql;
import dev.doppel.twin.service.TwinWatch;
import io.smallrye.mutiny.Multi;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.jboss.resteasy.reactive.RestStreamElementType;

/**
 * Live changes as server-sent events, Ditto's {@code GET /api/2/things} with
 * {@code Accept: text/event-stream}: every change of a thing the caller may read, optionally only
 * for {@code ids} or things matching an RQL {@code filter}.
 */
@Path("/api/2/things")
@RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.ADMIN})
public class LiveResource {

    private final TwinWatch watch;
    private final Caller caller;

    public LiveResource(TwinWatch watch, Caller caller) {
        this.watch = watch;
        this.caller = caller;
    }

    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    @Operation(summary = "Stream changes of things (SSE)", description = "Each event: thingId, revision, modified, changes by path, delta.")
    public Multi<Map<String, Object>> stream(@QueryParam("ids") String ids, @QueryParam("filter") String filter,
            @QueryParam("fields") String fields) {
        // fields: only changes at or below these paths; an event with none of them is not sent.
        java.util.List<String> parts = fields == null || fields.isBlank() ? null
                : Arrays.stream(fields.split(",")).map(String::trim).filter(f -> !f.isEmpty()).toList();
        // The request's identity is read now: the stream outlives the request scope.
        Set<String> only = ids == null || ids.isBlank() ? null
                : Arrays.stream(ids.split(",")).map(String::trim).collect(Collectors.toSet());
        TwinWatch.Scope scope;
        try {
            scope = TwinWatch.Scope.of(caller.isAdmin() ? null : caller.tenants(), only, filter);
        } catch (Rql.SyntaxError | InvalidReport e) {
            throw new ProblemException(Problem.of("invalid-filter", "Invalid filter", 400, e.getMessage(), null));
        }
        return caller.untilTokenExpires(watch.watch(scope))
                .map(c -> Map.entry(c, selected(c.changes(), parts)))
                // nothing in the selected parts changed: no event
                .filter(selection -> !selection.getValue().isEmpty())
                .map(selection -> {
                    var c = selection.getKey();
                    Map<String, Object> event = new LinkedHashMap<>();
                    event.put("thingId", c.thingId());
                    event.put("revision", c.revision());
                    event.put("modified", c.modified() == null ? null : c.modified().toString());
                    event.put("changes", selection.getValue());
                    event.put("delta", c.delta());
                    return event;
                });
    }

    /** The changes at or below the selected paths (all of them when none is selected). */
    private static Map<String, Object> selected(Map<String, Object> changes, java.util.List<String> parts) {
        if (parts == null) {
            return changes;
        }
        Map<String, Object> kept = new LinkedHashMap<>();
        changes.forEach((path, value) -> {
            if (parts.stream().anyMatch(f -> path.startsWith(f) && (path.length() == f.length()
                    || path.charAt(f.length()) == '/'))) {
                kept.put(path, value);
            }
        });
        return kept;
    }
}

package dev.doppel.twin.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.search.Rql;
import dev.doppel.twin.service.TwinWatch;
import io.smallrye.mutiny.Multi;
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
    public Multi<Map<String, Object>> stream(@QueryParam("ids") String ids, @QueryParam("filter") String filter) {
        // The request's identity is read now: the stream outlives the request scope.
        Set<String> only = ids == null || ids.isBlank() ? null
                : Arrays.stream(ids.split(",")).map(String::trim).collect(Collectors.toSet());
        TwinWatch.Scope scope;
        try {
            scope = TwinWatch.Scope.of(caller.isAdmin() ? null : caller.tenants(), only, filter);
        } catch (Rql.SyntaxError | InvalidReport e) {
            throw new ProblemException(Problem.of("invalid-filter", "Invalid filter", 400, e.getMessage(), null));
        }
        return watch.watch(scope)
                .map(c -> {
                    Map<String, Object> event = new LinkedHashMap<>();
                    event.put("thingId", c.thingId());
                    event.put("revision", c.revision());
                    event.put("modified", c.modified() == null ? null : c.modified().toString());
                    event.put("changes", c.changes());
                    event.put("delta", c.delta());
                    return event;
                });
    }
}

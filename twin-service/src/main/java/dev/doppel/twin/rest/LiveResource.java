package dev.doppel.twin.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.twin.messaging.LiveChanges;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.search.Rql;
import dev.doppel.twin.search.RqlMatcher;
import dev.doppel.twin.search.RqlParser;
import dev.doppel.twin.search.RqlToMongo;
import dev.doppel.twin.service.TwinService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
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

    private final LiveChanges live;
    private final TwinService twins;
    private final Caller caller;

    public LiveResource(LiveChanges live, TwinService twins, Caller caller) {
        this.live = live;
        this.twins = twins;
        this.caller = caller;
    }

    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    @Operation(summary = "Stream changes of things (SSE)", description = "Each event: thingId, revision, modified, changes by path, delta.")
    public Multi<Map<String, Object>> stream(@QueryParam("ids") String ids, @QueryParam("filter") String filter) {
        // The request's identity is read now: the stream outlives the request scope.
        boolean admin = caller.isAdmin();
        Set<String> tenants = caller.tenants();
        Set<String> only = ids == null || ids.isBlank() ? null
                : Arrays.stream(ids.split(",")).map(String::trim).collect(Collectors.toSet());
        Rql rql = parseFilter(filter);
        return live.stream()
                .filter(c -> ThingId.isValid(c.thingId()))
                .filter(c -> admin || tenants.contains(ThingId.parse(c.thingId()).tenant()))
                .filter(c -> only == null || only.contains(c.thingId()))
                .onItem().transformToUniAndConcatenate(c -> rql == null ? Uni.createFrom().item(c)
                        : twins.find(ThingId.parse(c.thingId()))
                                .map(t -> t.isPresent() && RqlMatcher.matches(rql, t.get()) ? c : null))
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

    private static Rql parseFilter(String filter) {
        if (filter == null || filter.isBlank()) {
            return null;
        }
        try {
            Rql rql = RqlParser.parse(filter);
            RqlToMongo.filter(rql); // checks the properties as search does
            return rql;
        } catch (Rql.SyntaxError | InvalidReport e) {
            throw new ProblemException(Problem.of("invalid-filter", "Invalid filter", 400, e.getMessage(), null));
        }
    }
}

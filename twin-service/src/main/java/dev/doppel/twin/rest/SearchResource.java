package dev.doppel.twin.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import dev.doppel.twin.mapping.TwinApiMapper;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.search.Rql;
import dev.doppel.twin.search.SearchOptions;
import dev.doppel.twin.search.TwinSearch;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** Ditto's search: {@code /api/2/search/things?filter=RQL&option=sort(..),size(..),cursor(..)} and {@code /count}. */
@Path("/api/2/search/things")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.ADMIN})
public class SearchResource {

    private final TwinSearch search;
    private final Caller caller;

    public SearchResource(TwinSearch search, Caller caller) {
        this.search = search;
        this.caller = caller;
    }

    @GET
    @Operation(summary = "Search things", description = "Only things of the caller's tenants; next page with option=cursor(...).")
    public Uni<Map<String, Object>> search(@QueryParam("filter") String filter, @QueryParam("option") String option,
            @QueryParam("fields") String fields) {
        SearchOptions options = checked(() -> SearchOptions.parse(option));
        return checked(() -> search.search(filter, options, scope())).map(page -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("items", page.items().stream()
                    .map(t -> TwinApiMapper.select(TwinApiMapper.toApi(t), fields)).toList());
            if (page.cursor() != null) {
                out.put("cursor", page.cursor());
            }
            return out;
        });
    }

    @GET
    @Path("/count")
    @Operation(summary = "Count the things a filter matches", description = "Only things of the caller's tenants.")
    public Uni<Long> count(@QueryParam("filter") String filter) {
        return checked(() -> search.count(filter, scope()));
    }

    /** Tenants the caller may see; null means every tenant (admins). */
    private Set<String> scope() {
        return caller.isAdmin() ? null : caller.tenants();
    }

    private static <T> T checked(java.util.function.Supplier<T> s) {
        try {
            return s.get();
        } catch (Rql.SyntaxError e) {
            throw new ProblemException(Problem.of("invalid-filter", "Invalid filter", 400, e.getMessage(), null));
        } catch (InvalidReport e) {
            throw new ProblemException(Problem.of("invalid-filter", "Invalid filter", 400, e.getMessage(), null));
        }
    }
}

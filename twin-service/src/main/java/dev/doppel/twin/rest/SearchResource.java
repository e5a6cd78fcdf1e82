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
import dev.doppel.contracts.ThingId;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
    @Operation(summary = "Search things", description = "Only things of the caller's tenants (and of the "
            + "namespaces named, if any); next page with option=cursor(...).")
    public Uni<Map<String, Object>> search(@QueryParam("filter") String filter, @QueryParam("option") String option,
            @QueryParam("fields") String fields, @QueryParam("namespaces") String namespaces) {
        SearchOptions options = checked(() -> SearchOptions.parse(option));
        java.util.List<java.util.List<String>> selected = TwinApiMapper.fields(fields);
        return checked(() -> search.search(filter, options, scope(namespaces))).map(page -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("items", page.items().stream()
                    .map(t -> TwinApiMapper.select(TwinApiMapper.toApi(t), selected)).toList());
            if (page.cursor() != null) {
                out.put("cursor", page.cursor());
            }
            return out;
        });
    }

    /** The same as a form ({@code application/x-www-form-urlencoded}), as Ditto's clients send a long filter. */
    @POST
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Operation(summary = "Search things, the parameters as a form")
    public Uni<Map<String, Object>> searchByForm(@FormParam("filter") String filter, @FormParam("option") String option,
            @FormParam("fields") String fields, @FormParam("namespaces") String namespaces) {
        return search(filter, option, fields, namespaces);
    }

    @GET
    @Path("/count")
    @Operation(summary = "Count the things a filter matches", description = "Only things of the caller's tenants "
            + "(and of the namespaces named, if any).")
    public Uni<Long> count(@QueryParam("filter") String filter, @QueryParam("namespaces") String namespaces) {
        return checked(() -> search.count(filter, scope(namespaces)));
    }

    @POST
    @Path("/count")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Operation(summary = "Count the things a filter matches, the parameters as a form")
    public Uni<Long> countByForm(@FormParam("filter") String filter, @FormParam("namespaces") String namespaces) {
        return count(filter, namespaces);
    }

    /**
     * Tenants searched: the caller's (null means every tenant: admins), narrowed to Ditto's
     * {@code namespaces} (comma-separated; a namespace here is a tenant) when given.
     */
    private Set<String> scope(String namespaces) {
        Set<String> mine = caller.isAdmin() ? null : caller.tenants();
        if (namespaces == null || namespaces.isBlank()) {
            return mine;
        }
        Set<String> named = new LinkedHashSet<>();
        for (String n : namespaces.split(",")) {
            String ns = n.trim();
            if (named.size() >= MAX_NAMESPACES || !ThingId.isValid(ns + ":x")) {
                throw new ProblemException(Problem.of("invalid-namespaces", "Invalid namespaces", 400,
                        "namespaces is a comma-separated list of at most " + MAX_NAMESPACES + " namespaces (tenants)",
                        null));
            }
            named.add(ns);
        }
        if (mine != null) {
            named.retainAll(mine);
        }
        return named;
    }

    private static final int MAX_NAMESPACES = 100;

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

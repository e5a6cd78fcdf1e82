package dev.doppel.twin.rest;

import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.twin.mapping.TwinApiMapper;
import dev.doppel.twin.service.TwinService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** Eclipse Ditto's things API v2: {@code /api/2/things/{thingId}}. */
@Path("/api/2/things")
@Produces(MediaType.APPLICATION_JSON)
public class ThingsResource {

    private final TwinService twins;
    private final Caller caller;

    public ThingsResource(TwinService twins, Caller caller) {
        this.twins = twins;
        this.caller = caller;
    }

    @GET
    @Path("/{thingId}")
    @Operation(summary = "Retrieve a thing (its twin)", description = "Ditto's JSON shape; ETag is the revision.")
    public Uni<Response> getThing(@PathParam("thingId") String thingId) {
        ThingId id = ProblemException.parseThingId(thingId);
        if (!caller.mayAccess(id.tenant())) {
            // Another tenant's twin reads exactly like a missing one: its existence is not revealed.
            throw notFound(id);
        }
        return twins.find(id).map(found -> found
                .map(twin -> Response.ok(TwinApiMapper.toApi(twin)).tag(TwinApiMapper.etag(twin).replace("\"", ""))
                        .build())
                .orElseThrow(() -> notFound(id)));
    }

    private static ProblemException notFound(ThingId id) {
        return new ProblemException(Problem.of("thing-not-found", "Thing not found", 404,
                "The thing with id '" + id + "' could not be found or the requester may not read it.", null));
    }
}

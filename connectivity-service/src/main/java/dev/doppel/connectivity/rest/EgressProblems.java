package dev.doppel.connectivity.rest;

import dev.doppel.connectivity.egress.EgressRefused;
import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemMappers;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** A plan or connection the tenant may not make ({@code EgressPolicy}): 403, with the reason. */
public class EgressProblems {

    @ServerExceptionMapper
    public Response refused(EgressRefused e, UriInfo uri) {
        return ProblemMappers.respond(Problem.of("egress-refused", "Destination not allowed", 403, e.getMessage(), null),
                uri);
    }
}

package dev.doppel.twin.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemMappers;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.service.TwinEdits;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** The twin write errors as problem responses with stable types. */
public class TwinProblems {

    @ServerExceptionMapper
    public Response invalid(InvalidReport e, UriInfo uri) {
        int status = switch (e.reason()) {
            case "too-large" -> 413;
            case "feature-not-found" -> 404;
            default -> 400;
        };
        return ProblemMappers.respond(Problem.of(e.reason(), status == 413 ? "Thing too large"
                : status == 404 ? "Not found" : "Invalid thing", status, e.getMessage(), null), uri);
    }

    @ServerExceptionMapper
    public Response notFound(TwinEdits.NotFound e, UriInfo uri) {
        return ProblemMappers.respond(Problem.of("thing-not-found", "Not found", 404, e.getMessage(), null), uri);
    }

    @ServerExceptionMapper
    public Response precondition(TwinEdits.PreconditionFailed e, UriInfo uri) {
        return ProblemMappers.respond(Problem.of("precondition-failed", "Precondition failed", 412, e.getMessage(),
                null), uri);
    }
}

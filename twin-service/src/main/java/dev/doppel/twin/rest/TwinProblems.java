package dev.doppel.twin.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.rest.ProblemMappers;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.search.Rql;
import dev.doppel.twin.service.TwinEdits;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** The twin errors as problems with stable types, for REST and GraphQL alike. */
public class TwinProblems {

    /** The problem an error of the twin API stands for, or null if it is not one (a bug or an outage). */
    public static Problem of(Throwable e) {
        return switch (e) {
            case ProblemException p -> p.problem();
            case InvalidReport r -> {
                int status = switch (r.reason()) {
                    case "too-large" -> 413;
                    case "feature-not-found" -> 404;
                    default -> 400;
                };
                yield Problem.of(r.reason(), status == 413 ? "Thing too large"
                        : status == 404 ? "Not found" : "Invalid thing", status, r.getMessage(), null);
            }
            case TwinEdits.NotFound n -> Problem.of("thing-not-found", "Not found", 404, n.getMessage(), null);
            case TwinEdits.PreconditionFailed p -> Problem.of("precondition-failed", "Precondition failed", 412,
                    p.getMessage(), null);
            case Rql.SyntaxError s -> Problem.of("invalid-filter", "Invalid filter", 400, s.getMessage(), null);
            default -> null;
        };
    }

    @ServerExceptionMapper
    public Response invalid(InvalidReport e, UriInfo uri) {
        return ProblemMappers.respond(of(e), uri);
    }

    @ServerExceptionMapper
    public Response notFound(TwinEdits.NotFound e, UriInfo uri) {
        return ProblemMappers.respond(of(e), uri);
    }

    @ServerExceptionMapper
    public Response precondition(TwinEdits.PreconditionFailed e, UriInfo uri) {
        return ProblemMappers.respond(of(e), uri);
    }
}

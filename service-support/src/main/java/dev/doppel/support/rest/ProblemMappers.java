package dev.doppel.support.rest;

import com.mongodb.MongoExecutionTimeoutException;
import dev.doppel.contracts.Problem;
import dev.doppel.support.store.Queries;
import io.quarkus.security.ForbiddenException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error leaves as {@code application/problem+json}; never a stack trace. */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response problem(ProblemException e, UriInfo uri) {
        Response.ResponseBuilder r = builder(e.problem(), uri);
        // Whole seconds, rounded up (RFC 9110 delay-seconds).
        e.retryAfter().ifPresent(d -> r.header("Retry-After", Math.max(1, (d.toMillis() + 999) / 1000)));
        return r.build();
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e, UriInfo uri) {
        int status = e.getResponse().getStatus();
        String title = e.getResponse().getStatusInfo().getReasonPhrase();
        return respond(Problem.of("http-" + status, title, status, e.getMessage(), null), uri);
    }

    /** A role check ({@code @RolesAllowed}) that refused the caller. */
    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, UriInfo uri) {
        return respond(Problem.of("forbidden", "Forbidden", 403,
                "the caller's roles do not allow this operation", null), uri);
    }

    /** A query the store stopped at {@code Queries.MAX_TIME}: the caller asked for too much at once. */
    @ServerExceptionMapper
    public Response queryTimeout(MongoExecutionTimeoutException e, UriInfo uri) {
        return respond(Problem.of("query-timeout", "Query took too long", 503, "the store stopped the query after "
                + Queries.MAX_TIME.toSeconds() + " s; narrow it (an indexed field, a tenant, fewer like patterns)",
                null), uri);
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e, UriInfo uri) {
        LOG.error("unexpected error on " + uri.getPath(), e);
        return respond(Problem.of("internal-error", "Internal error", 500,
                "The request could not be completed; the error was logged.", null), uri);
    }

    public static Response respond(Problem p, UriInfo uri) {
        return builder(p, uri).build();
    }

    private static Response.ResponseBuilder builder(Problem p, UriInfo uri) {
        Problem withInstance = new Problem(p.type(), p.title(), p.status(), p.detail(),
                p.instance() != null ? p.instance() : uri == null ? null : uri.getPath());
        return Response.status(p.status()).type(Problem.MEDIA_TYPE).entity(withInstance);
    }
}

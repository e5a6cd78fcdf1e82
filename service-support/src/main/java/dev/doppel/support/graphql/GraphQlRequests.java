package dev.doppel.support.graphql;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.RoutedProblems;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Set;

/**
 * What SmallRye GraphQL's HTTP handler does not refuse by itself, refused as a client's error
 * before or around it (the fuzz tests found each as a 500): a POST whose body is not a GraphQL
 * request (a form or a multipart body, which Vert.x starts decoding as one and fails on), a body
 * its JSON parser gives up on (nesting past 1,000 levels), {@code variables} that are not an
 * object (a cast failure in SmallRye's request parsing), and a JSON literal in the query that its
 * scalar cannot read. Answered 415 and 400 with a problem, counted in
 * {@code doppel_graphql_refused_total{reason}}.
 */
@ApplicationScoped
public class GraphQlRequests {

    private static final String PATH = "/graphql";
    private static final Set<String> TYPES = Set.of("application/json", "application/graphql",
            "application/graphql+json");

    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public GraphQlRequests(ObjectMapper json, MeterRegistry metrics) {
        this.json = json;
        this.metrics = metrics;
    }

    void guard(@Observes Router router) {
        router.post(PATH).order(Integer.MIN_VALUE).handler(this::checkType);
        router.route(PATH).order(Integer.MIN_VALUE).failureHandler(this::unreadable);
    }

    private void checkType(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        String base = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        if (TYPES.contains(base)) {
            ctx.next();
            return;
        }
        refuse(ctx, Problem.of("unsupported-media-type", "Unsupported media type", 415,
                "a GraphQL request is application/json (or application/graphql), not "
                        + (base.isEmpty() ? "a body without a type" : base.length() > 100 ? "that" : base), PATH));
    }

    private void unreadable(RoutingContext ctx) {
        if (ctx.response().headWritten()) {
            ctx.next();
        } else if (unreadableRequest(ctx.failure())) {
            refuse(ctx, Problem.of("invalid-request", "Invalid request", 400,
                    "the body is not JSON this service reads: " + ctx.failure().getMessage(), PATH));
        } else if (unreadableLiteral(ctx.failure())) {
            refuse(ctx, Problem.of("invalid-request", "Invalid request", 400,
                    "a JSON argument written in the query holds a value its scalar cannot read (such as null in"
                            + " a list or an object); pass the value in variables instead", PATH));
        } else {
            ctx.next();
        }
    }

    /**
     * The JSON scalar (graphql-java's extended scalars) fails with an internal assertion on a literal
     * it does not cover, {@code null} in a list or object ({@code json: [null]}), while the query is
     * validated: a value the client wrote (CommandApiFuzzIT).
     */
    private static boolean unreadableLiteral(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t.getClass().getName().equals("graphql.AssertException") && raisedIn(t, "graphql.scalars.")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The request's JSON parser (Parsson, behind SmallRye GraphQL) gave up on its body, or SmallRye's
     * reading of the request's parts failed on their shape: the request's fault, whatever the type.
     */
    private static boolean unreadableRequest(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t.getClass().getName().startsWith("jakarta.json.")
                    || raisedIn(t, "org.eclipse.parsson.", "io.smallrye.graphql.api.Context$VariablesParser")) {
                return true;
            }
        }
        return false;
    }

    /** Whether one of the top frames of {@code t} (where it was raised) is in one of these packages or classes. */
    private static boolean raisedIn(Throwable t, String... prefixes) {
        StackTraceElement[] at = t.getStackTrace();
        for (int i = 0; i < Math.min(at.length, 8); i++) {
            for (String prefix : prefixes) {
                if (at[i].getClassName().startsWith(prefix)) {
                    return true;
                }
            }
        }
        return false;
    }

    private void refuse(RoutingContext ctx, Problem problem) {
        metrics.counter("doppel.graphql.refused", "reason", problem.status() == 415 ? "media-type" : "unreadable")
                .increment();
        RoutedProblems.end(ctx, json, problem);
    }
}

package dev.doppel.support.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.Problem;
import io.vertx.ext.web.RoutingContext;

/** A problem answered from a Vert.x route (ahead of REST's exception mappers, which answer the rest). */
public final class RoutedProblems {

    private RoutedProblems() {
    }

    public static void end(RoutingContext ctx, ObjectMapper json, Problem problem) {
        String body;
        try {
            body = json.writeValueAsString(problem);
        } catch (JsonProcessingException e) {
            body = "{}";
        }
        ctx.response().setStatusCode(problem.status()).putHeader("Content-Type", Problem.MEDIA_TYPE).end(body);
    }
}

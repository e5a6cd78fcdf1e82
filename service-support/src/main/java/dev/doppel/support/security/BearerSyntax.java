package dev.doppel.support.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.RoutedProblems;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * A bearer token that is not even shaped like a JWT (three base64url parts) is answered 401 before
 * authentication sees it: quarkus-oidc failed on some (a token of dots, say: a
 * {@code NoSuchElementException} in its JWT decoding, answered 500; RegistryFuzzIT). Only JWTs are
 * accepted anyway ({@code quarkus.oidc.token.allow-opaque-token-introspection=false}). Counted in
 * {@code doppel_security_tokens_total{outcome="malformed"}}.
 */
@ApplicationScoped
public class BearerSyntax {

    private final ObjectMapper json;
    private final MeterRegistry metrics;

    public BearerSyntax(ObjectMapper json, MeterRegistry metrics) {
        this.json = json;
        this.metrics = metrics;
    }

    void guard(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(this::check);
    }

    private void check(RoutingContext ctx) {
        String authorization = ctx.request().getHeader("Authorization");
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                || shapedLikeJws(authorization)) {
            ctx.next();
            return;
        }
        metrics.counter("doppel.security.tokens", "outcome", "malformed").increment();
        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        RoutedProblems.end(ctx, json, Problem.of("invalid-token", "Invalid token", 401, "the bearer token is not a JWT",
                ctx.request().path()));
    }

    /**
     * Whether what follows "Bearer " (spaces around it aside) is three base64url parts joined by dots,
     * the first two not empty. A scan without copies or a regular expression: it runs on every request.
     */
    static boolean shapedLikeJws(String authorization) {
        int start = 7;
        int end = authorization.length();
        while (start < end && authorization.charAt(start) == ' ') {
            start++;
        }
        while (end > start && authorization.charAt(end - 1) == ' ') {
            end--;
        }
        int dots = 0;
        int partLength = 0;
        for (int i = start; i < end; i++) {
            char c = authorization.charAt(i);
            if (c == '.') {
                if (partLength == 0 || ++dots > 2) {
                    return false;
                }
                partLength = 0;
            } else if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
                partLength++;
            } else {
                return false;
            }
        }
        return dots == 2;
    }
}

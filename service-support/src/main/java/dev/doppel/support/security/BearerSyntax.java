package dev.doppel.support.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.RoutedProblems;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.regex.Pattern;

/**
 * A bearer token that is not even shaped like a JWT (three base64url parts) is answered 401 before
 * authentication sees it: quarkus-oidc failed on some (a token of dots, say: a
 * {@code NoSuchElementException} in its JWT decoding, answered 500; RegistryFuzzIT). Only JWTs are
 * accepted anyway ({@code quarkus.oidc.token.allow-opaque-token-introspection=false}). Counted in
 * {@code doppel_security_tokens_total{outcome="malformed"}}.
 */
@ApplicationScoped
public class BearerSyntax {

    private static final Pattern JWS = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

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
        if (authorization == null || authorization.length() < 7
                || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                || JWS.matcher(authorization.substring(7).trim()).matches()) {
            ctx.next();
            return;
        }
        metrics.counter("doppel.security.tokens", "outcome", "malformed").increment();
        ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        RoutedProblems.end(ctx, json, Problem.of("invalid-token", "Invalid token", 401, "the bearer token is not a JWT",
                ctx.request().path()));
    }
}

package dev.doppel.support.security;

import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpSecurityPolicy;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The GraphQL path's permission ({@code quarkus.http.auth.permission.graphql.policy=authenticated-or-websocket}):
 * queries and mutations over HTTP need a signed-in caller, as before, but a WebSocket upgrade may
 * arrive without one, because a browser cannot set headers on it. Such a socket signs in with
 * graphql-ws's {@code connection_init} payload, {@code {"Authorization": "Bearer <token>"}}
 * ({@code quarkus.smallrye-graphql.authorization-client-init-payload-name}), which Quarkus verifies as it
 * would the header, and closes with 1008 when that token expires. Until then the socket is anonymous,
 * and every operation checks its role ({@link Caller#require}), so an anonymous socket gets a 401
 * problem for each operation and nothing else.
 */
@ApplicationScoped
public class WebSocketSignIn implements HttpSecurityPolicy {

    public static final String NAME = "authenticated-or-websocket";

    @Override
    public Uni<CheckResult> checkPermission(RoutingContext request, Uni<SecurityIdentity> identity,
            AuthorizationRequestContext context) {
        if (isUpgrade(request.request())) {
            return CheckResult.permit();
        }
        return identity.map(i -> i.isAnonymous() ? CheckResult.DENY : CheckResult.PERMIT);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** A WebSocket opening handshake (RFC 6455 4.1): a GET that asks to upgrade to websocket. */
    static boolean isUpgrade(HttpServerRequest request) {
        String upgrade = request.getHeader("Upgrade");
        return request.method() == HttpMethod.GET && upgrade != null && upgrade.equalsIgnoreCase("websocket");
    }
}

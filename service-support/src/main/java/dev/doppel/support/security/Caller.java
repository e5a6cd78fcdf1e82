package dev.doppel.support.security;

import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemException;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Multi;
import jakarta.enterprise.context.RequestScoped;
import java.time.Duration;
import java.util.Collection;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Who is calling, read from the validated token alone: its realm roles (see {@link Roles}; REST
 * endpoints check them with {@code @RolesAllowed}, GraphQL operations with {@link #require}) and
 * which tenants' data it may see. A {@code dt-admin} sees every tenant; anyone else sees the tenants
 * in the token's {@code tenants} claim (set by Keycloak from the user's tenant groups).
 */
@RequestScoped
public class Caller {

    public static final String TENANTS_CLAIM = "tenants";

    private final SecurityIdentity identity;
    private final JsonWebToken token;
    private Set<String> tenants;

    public Caller(SecurityIdentity identity, JsonWebToken token) {
        this.identity = identity;
        this.token = token;
    }

    public boolean isAdmin() {
        return identity.hasRole(Roles.ADMIN);
    }

    public boolean hasAnyRole(Collection<String> roles) {
        for (String role : roles) {
            if (identity.hasRole(role)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Refuses an anonymous caller with a 401 problem, and one without any of the roles with a 403 problem:
     * for operations that {@code @RolesAllowed} cannot guard on its own (GraphQL, whose one path carries
     * reads and writes).
     */
    public void require(String what, Collection<String> roles) {
        if (identity.isAnonymous()) {
            // Only a GraphQL WebSocket gets this far unsigned (WebSocketSignIn): it signs in with connection_init.
            throw new ProblemException(Problem.of("unauthenticated", "Sign-in required", 401, what
                    + " takes a signed-in caller: a bearer token, on a WebSocket in connection_init's payload as"
                    + " {\"Authorization\": \"Bearer <token>\"}", null));
        }
        if (!hasAnyRole(roles)) {
            throw new ProblemException(Problem.of("forbidden", "Forbidden", 403,
                    what + " takes role " + String.join(" or ", roles), null));
        }
    }

    /** The caller's tenants; empty for an admin, who is not limited (see {@link #mayAccess}). */
    public Set<String> tenants() {
        if (tenants == null) {
            tenants = tenantsOfToken(); // read once per request: REST and GraphQL ask for every item
        }
        return tenants;
    }

    private Set<String> tenantsOfToken() {
        Object claim = token == null ? null : token.getClaim(TENANTS_CLAIM);
        if (claim instanceof Collection<?> values) {
            return values.stream().map(v -> v.toString().replace("\"", "")).collect(Collectors.toUnmodifiableSet());
        }
        if (claim != null) {
            return Set.of(claim.toString().replace("\"", ""));
        }
        return Set.of();
    }

    public boolean mayAccess(String tenant) {
        return isAdmin() || tenants().contains(tenant);
    }

    /**
     * A live stream (SSE, a GraphQL subscription) on this caller's token: it ends when the token
     * expires, so a user whose access was revoked cannot go on streaming on an old token; to go on,
     * a client opens it again with a fresh one. Asked for with a token that has already expired, it
     * fails at once with a 401 problem (a WebSocket keeps the identity it was opened with).
     */
    public <T> Multi<T> untilTokenExpires(Multi<T> stream) {
        long expiresAt = token == null ? 0 : token.getExpirationTime();
        if (expiresAt <= 0) {
            return stream; // no token to expire (an identity without one is refused before this)
        }
        long left = expiresAt * 1000 - System.currentTimeMillis();
        if (left <= 0) {
            return Multi.createFrom().failure(new ProblemException(Problem.of("token-expired", "Token expired", 401,
                    "the token this stream was asked for with has expired; open it again with a fresh one", null)));
        }
        return stream.select().first(Duration.ofMillis(left));
    }

    public String name() {
        return identity.isAnonymous() ? "anonymous" : identity.getPrincipal().getName();
    }
}

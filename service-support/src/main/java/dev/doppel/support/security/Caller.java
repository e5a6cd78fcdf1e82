package dev.doppel.support.security;

import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;
import java.util.Collection;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Who is calling, as far as data goes: the Keycloak policy enforcer has already decided whether the
 * caller's roles allow the operation; this decides which tenants' data the caller may see. A
 * {@code dt-admin} sees every tenant; anyone else sees the tenants in the token's {@code tenants}
 * claim (set by Keycloak from the user's tenant groups).
 */
@RequestScoped
public class Caller {

    public static final String ADMIN_ROLE = "dt-admin";
    public static final String TENANTS_CLAIM = "tenants";

    private final SecurityIdentity identity;
    private final JsonWebToken token;

    public Caller(SecurityIdentity identity, JsonWebToken token) {
        this.identity = identity;
        this.token = token;
    }

    public boolean isAdmin() {
        return identity.hasRole(ADMIN_ROLE);
    }

    /** A realm role of the caller; for decisions the policy enforcer cannot make by path (GraphQL). */
    public boolean hasRole(String role) {
        return identity.hasRole(role);
    }

    /** The caller's tenants; empty for an admin, who is not limited (see {@link #mayAccess}). */
    public Set<String> tenants() {
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

    public String name() {
        return identity.isAnonymous() ? "anonymous" : identity.getPrincipal().getName();
    }
}

package dev.doppel.support.security;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.security.credential.TokenCredential;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.SecurityIdentityAugmentor;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Remembers the identities of bearer tokens that quarkus-oidc verified (signature, issuer, audience,
 * expiry), until each token expires: a client sends the same token with every request, and checking
 * its RSA signature and parsing its claims again each time was a quarter of a twin read's CPU.
 *
 * <p>Only tokens that passed verification are remembered, keyed by the whole token text (signature
 * included), so nothing can be added by a client that has no valid token. An entry is used only
 * before the token's {@code exp}. The number of entries is bounded ({@code doppel.security.verified-tokens});
 * when full, expired ones are dropped, and a token that still finds no room is verified each time.
 * What quarkus-oidc would decide is unchanged: a token is accepted exactly as long as it is valid.
 */
@ApplicationScoped
public class VerifiedTokens implements IdentityProvider<TokenAuthenticationRequest>, SecurityIdentityAugmentor {

    private record Entry(SecurityIdentity identity, long expiresAtSeconds) {
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final int capacity;
    private final Counter remembered;
    private final Counter verified;

    public VerifiedTokens(@ConfigProperty(name = "doppel.security.verified-tokens", defaultValue = "10000") int capacity,
            MeterRegistry metrics) {
        this.capacity = capacity;
        this.remembered = metrics.counter("doppel.security.tokens", "outcome", "remembered");
        this.verified = metrics.counter("doppel.security.tokens", "outcome", "verified");
    }

    @Override
    public Class<TokenAuthenticationRequest> getRequestType() {
        return TokenAuthenticationRequest.class;
    }

    /**
     * Before quarkus-oidc's provider: a remembered, unexpired token needs no verification. That provider
     * keeps the interface's default priority, {@code SYSTEM_FIRST + 1}; a tie leaves the order to bean
     * discovery, which put quarkus-oidc first in command-service and connectivity-service, so that every
     * request there was verified again (a tenth of command-service's CPU under load).
     */
    @Override
    public int priority() {
        return SYSTEM_FIRST + 100;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(TokenAuthenticationRequest request, AuthenticationRequestContext context) {
        String token = request.getToken() == null ? null : request.getToken().getToken();
        Entry entry = token == null ? null : entries.get(token);
        if (entry == null) {
            verified.increment();
            return Uni.createFrom().nullItem(); // quarkus-oidc verifies it
        }
        if (entry.expiresAtSeconds() <= nowSeconds()) {
            verified.increment();
            entries.remove(token, entry);
            return Uni.createFrom().nullItem(); // and refuses it
        }
        remembered.increment();
        return Uni.createFrom().item(forRequest(entry.identity(), request));
    }

    /** After quarkus-oidc verified a token: remember the identity it made. */
    @Override
    public Uni<SecurityIdentity> augment(SecurityIdentity identity, AuthenticationRequestContext context) {
        if (identity.isAnonymous() || !(identity.getPrincipal() instanceof JsonWebToken jwt)) {
            return Uni.createFrom().item(identity);
        }
        TokenCredential credential = identity.getCredential(TokenCredential.class);
        long exp = jwt.getExpirationTime();
        if (credential == null || credential.getToken() == null || exp <= nowSeconds()
                || entries.containsKey(credential.getToken())) {
            return Uni.createFrom().item(identity);
        }
        if (entries.size() >= capacity) {
            long now = nowSeconds();
            entries.values().removeIf(e -> e.expiresAtSeconds() <= now);
        }
        if (entries.size() < capacity) {
            entries.put(credential.getToken(), new Entry(withoutRequest(identity), exp));
        }
        return Uni.createFrom().item(identity);
    }

    /** The remembered identity, for this request: the attribute naming the request is this one's. */
    private static SecurityIdentity forRequest(SecurityIdentity remembered, TokenAuthenticationRequest request) {
        Object routing = request.getAttribute(HttpSecurityUtils.ROUTING_CONTEXT_ATTRIBUTE);
        return copy(remembered, routing);
    }

    /** What is kept: the identity without the request it was verified in, so no old request is held. */
    private static SecurityIdentity withoutRequest(SecurityIdentity identity) {
        return copy(identity, null);
    }

    /**
     * Principal, roles, credentials and attributes; the request's routing context only if given.
     * Permission checkers are not carried over: access here is decided by roles ({@link Roles}).
     */
    private static SecurityIdentity copy(SecurityIdentity identity, Object routing) {
        Map<String, Object> attributes = new HashMap<>(identity.getAttributes());
        attributes.remove(HttpSecurityUtils.ROUTING_CONTEXT_ATTRIBUTE);
        if (routing != null) {
            attributes.put(HttpSecurityUtils.ROUTING_CONTEXT_ATTRIBUTE, routing);
        }
        return QuarkusSecurityIdentity.builder().setPrincipal(identity.getPrincipal()).addRoles(identity.getRoles())
                .addCredentials(identity.getCredentials()).addAttributes(attributes).setAnonymous(false).build();
    }

    int size() {
        return entries.size();
    }

    private static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }
}

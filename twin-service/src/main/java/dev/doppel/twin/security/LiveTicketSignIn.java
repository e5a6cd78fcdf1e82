package dev.doppel.twin.security;

import io.quarkus.oidc.AccessTokenCredential;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Signs in the SSE request of a browser's {@code EventSource} by its {@code ticket} query parameter
 * ({@link LiveTickets}): only on {@code GET /api/2/things} and only without an {@code Authorization}
 * header (a request with one is quarkus-oidc's). The bearer token the ticket stands for is verified
 * as if it had come in the header, so the stream has that token's roles, tenants and expiry. A ticket
 * that is unknown, used or expired is answered 401.
 */
@ApplicationScoped
public class LiveTicketSignIn implements HttpAuthenticationMechanism {

    private static final Logger LOG = Logger.getLogger(LiveTicketSignIn.class);
    public static final String STREAM_PATH = "/api/2/things";

    private final LiveTickets tickets;

    public LiveTicketSignIn(LiveTickets tickets) {
        this.tickets = tickets;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identities) {
        String ticket = ticketOf(context);
        if (ticket == null) {
            return Uni.createFrom().nullItem();
        }
        return tickets.redeem(ticket).chain(token -> {
            if (token == null) {
                LOG.debugf("refused a live ticket from %s: unknown, used or expired", context.request().remoteAddress());
                return Uni.createFrom().failure(new AuthenticationFailedException("unknown, used or expired ticket"));
            }
            return identities.authenticate(HttpSecurityUtils.setRoutingContextAttribute(
                    new TokenAuthenticationRequest(new AccessTokenCredential(token)), context));
        });
    }

    /** The ticket of a request this mechanism is for; null for every other request. */
    private static String ticketOf(RoutingContext context) {
        if (context.request().method() != HttpMethod.GET || context.request().getHeader("Authorization") != null
                || !STREAM_PATH.equals(context.normalizedPath())) {
            return null;
        }
        return context.request().getParam("ticket");
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return ticketOf(context) == null ? Uni.createFrom().nullItem()
                : Uni.createFrom().item(new ChallengeData(401, null, null));
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(TokenAuthenticationRequest.class);
    }
}

package dev.doppel.twin.console;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.URI;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The console's pages may run their own scripts and talk to Keycloak and Doppel's APIs, and nothing
 * else: a twin's values are device input, and should one ever reach the page as markup, the policy
 * keeps any script in it from running or sending anything elsewhere. No framing (clickjacking).
 */
@ApplicationScoped
public class ConsoleHeaders {

    private final String policy;

    public ConsoleHeaders(ConsoleConfig config) {
        Set<String> connect = new LinkedHashSet<>();
        connect.add("'self'");
        origin(Optional.of(config.keycloakUrl())).ifPresent(connect::add);
        origin(config.commandsUrl()).ifPresent(o -> {
            connect.add(o);
            connect.add(o.replaceFirst("^http", "ws"));
        });
        origin(config.devicesUrl()).ifPresent(connect::add);
        this.policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                + "connect-src " + String.join(" ", connect) + "; form-action 'self' " + origin(Optional.of(
                        config.keycloakUrl())).orElse("") + "; base-uri 'none'; frame-ancestors 'none'";
    }

    void install(@Observes Router router) {
        router.route("/console/*").order(-100).handler(rc -> {
            rc.response().putHeader("Content-Security-Policy", policy)
                    .putHeader("X-Content-Type-Options", "nosniff")
                    .putHeader("Referrer-Policy", "no-referrer");
            rc.next();
        });
    }

    /** {@code scheme://host[:port]} of a URL, the form a policy names a source in. */
    private static Optional<String> origin(Optional<String> url) {
        return url.filter(u -> !u.isBlank()).map(URI::create).filter(u -> u.getHost() != null)
                .map(u -> u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()));
    }
}

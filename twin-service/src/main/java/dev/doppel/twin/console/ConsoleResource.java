package dev.doppel.twin.console;

import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The console's settings, read by its page before it signs in: nothing secret, the same for everyone.
 * The page itself is static ({@code META-INF/resources/console/}); {@link ConsoleHeaders} sets its
 * content security policy.
 */
@Path("/console")
@PermitAll
public class ConsoleResource {

    private final ConsoleConfig config;

    public ConsoleResource(ConsoleConfig config) {
        this.config = config;
    }

    @GET
    public Response page() {
        return Response.status(Response.Status.MOVED_PERMANENTLY).location(URI.create("/console/")).build();
    }

    @GET
    @Path("/config.json")
    @Produces(MediaType.APPLICATION_JSON)
    public Response settings() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("keycloakUrl", config.keycloakUrl());
        body.put("clientId", config.clientId());
        body.put("commandsUrl", config.commandsUrl().orElse(""));
        body.put("devicesUrl", config.devicesUrl().orElse(""));
        return Response.ok(body).header("Cache-Control", "no-cache").build();
    }
}

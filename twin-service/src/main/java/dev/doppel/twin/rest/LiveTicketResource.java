package dev.doppel.twin.rest;

import dev.doppel.support.security.Roles;
import dev.doppel.twin.security.LiveTicketSignIn;
import dev.doppel.twin.security.LiveTickets;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * Issues a ticket for the SSE stream ({@link LiveTickets}): a browser's {@code EventSource} cannot send
 * the bearer token, so the app asks for a ticket with it and opens
 * {@code /api/2/things?ticket=...} within the ticket's lifetime.
 */
@Path("/api/2/live-tickets")
@RolesAllowed({Roles.VIEWER, Roles.OPERATOR, Roles.ADMIN})
public class LiveTicketResource {

    private final LiveTickets tickets;
    private final JsonWebToken token;

    public LiveTicketResource(LiveTickets tickets, JsonWebToken token) {
        this.tickets = tickets;
        this.token = token;
    }

    @POST
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "A single-use ticket for the live stream (SSE from EventSource)",
            description = "Valid 30 s and once; open GET /api/2/things?ticket=... with Accept: text/event-stream.")
    public Uni<Response> issue() {
        return tickets.issue(token.getRawToken(), token.getExpirationTime()).map(t -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("ticket", t.ticket());
            body.put("expiresInSeconds", Math.max(0, Duration.between(Instant.now(), t.expires()).toSeconds()));
            body.put("stream", LiveTicketSignIn.STREAM_PATH + "?ticket=" + t.ticket());
            return Response.status(201).entity(body).header("Cache-Control", "no-store").build();
        });
    }
}

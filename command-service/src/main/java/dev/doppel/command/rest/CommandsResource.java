package dev.doppel.command.rest;

import dev.doppel.support.rest.ProblemException;
import dev.doppel.command.mapping.CommandApiMapper;
import dev.doppel.command.service.CommandService;
import dev.doppel.contracts.Problem;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;

/** Commands as resources: their status and history. */
@Path("/api/commands")
@Produces(MediaType.APPLICATION_JSON)
public class CommandsResource {

    private final CommandService commands;

    public CommandsResource(CommandService commands) {
        this.commands = commands;
    }

    @GET
    @Path("/{id}")
    public Uni<Map<String, Object>> get(@PathParam("id") String id) {
        return commands.find(id).map(c -> c.map(CommandApiMapper::toApi).orElseThrow(() -> new ProblemException(
                Problem.of("command-not-found", "Command not found", 404, "no command with id " + id, null))));
    }
}

package dev.doppel.command.rest;

import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
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
    private final Caller caller;

    public CommandsResource(CommandService commands, Caller caller) {
        this.commands = commands;
        this.caller = caller;
    }

    @GET
    @Path("/{id}")
    public Uni<Map<String, Object>> get(@PathParam("id") String id) {
        return commands.find(id).map(c -> c
                .filter(command -> caller.mayAccess(ThingId.parse(command.thingId()).tenant()))
                .map(CommandApiMapper::toApi).orElseThrow(() -> new ProblemException(
                Problem.of("command-not-found", "Command not found", 404, "no command with id " + id, null))));
    }
}

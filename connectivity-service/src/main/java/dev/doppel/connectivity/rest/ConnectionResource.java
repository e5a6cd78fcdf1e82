package dev.doppel.connectivity.rest;

import dev.doppel.connectivity.bridge.BridgeDefinition;
import dev.doppel.connectivity.bridge.BridgeDefinitions;
import dev.doppel.connectivity.egress.EgressPolicy;
import dev.doppel.contracts.Problem;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.List;
import java.util.Objects;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * Connections to external MQTT brokers (for fleets already talking to their own broker): which
 * topics carry which device's data, and where its commands go. One connectivity instance runs each.
 */
@Path("/api/registry/connections/{tenant}/{name}")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({Roles.DEVICE_ADMIN, Roles.ADMIN})
public class ConnectionResource {

    private static final NamedInTenant NAMED = new NamedInTenant("connection", "connection");

    private final BridgeDefinitions definitions;
    private final Caller caller;
    private final EgressPolicy egress;

    public ConnectionResource(BridgeDefinitions definitions, Caller caller, EgressPolicy egress) {
        this.definitions = definitions;
        this.caller = caller;
        this.egress = egress;
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Create or replace a connection to an external MQTT broker")
    public Uni<Response> put(@PathParam("tenant") String tenant, @PathParam("name") String name,
            BridgeDefinition definition) {
        check(tenant, name);
        List<String> problems = definition == null ? List.of("a connection definition is required")
                : definition.problems(tenant);
        if (!problems.isEmpty()) {
            throw new ProblemException(Problem.of("invalid-connection", "Invalid connection", 400,
                    String.join("; ", problems), null));
        }
        // What GET showed ("***") sent back unchanged keeps the stored password.
        Uni<BridgeDefinition> complete = !"***".equals(definition.password()) ? Uni.createFrom().item(definition)
                : definitions.find(tenant, name).map(stored -> {
                    if (stored.isEmpty()) {
                        throw new ProblemException(Problem.of("invalid-connection", "Invalid connection", 400,
                                "password \"***\" keeps the stored one, and there is none", null));
                    }
                    // Else anyone who may edit the connection could send the stored password to a broker of theirs.
                    if (!stored.get().brokerHost().equalsIgnoreCase(definition.brokerHost())
                            || stored.get().brokerPort() != definition.brokerPort()
                            || !Objects.equals(stored.get().username(), definition.username())) {
                        throw new ProblemException(Problem.of("invalid-connection", "Invalid connection", 400,
                                "password \"***\" keeps the stored one only for the same broker and username;"
                                        + " send the password with a new uri", null));
                    }
                    return new BridgeDefinition(definition.uri(), definition.username(), stored.get().password(),
                            definition.clientId(), definition.subscriptions(), definition.commandTopic(),
                            definition.responses(), definition.enabled());
                });
        return complete.call(d -> egress.check(tenant, d.brokerHost(), d.brokerPort(), "bridge"))
                .chain(d -> definitions.put(tenant, name, d)).map(created -> created
                ? Response.created(URI.create("/api/registry/connections/" + tenant + "/" + name))
                        .entity(definition.redacted()).build()
                : Response.noContent().build());
    }

    @GET
    @Operation(summary = "Read a connection (its password hidden)")
    public Uni<BridgeDefinition> get(@PathParam("tenant") String tenant, @PathParam("name") String name) {
        check(tenant, name);
        return definitions.find(tenant, name).map(d -> d.map(BridgeDefinition::redacted)
                .orElseThrow(() -> notFound(tenant, name)));
    }

    @DELETE
    @Operation(summary = "Delete a connection; its instance disconnects within seconds")
    public Uni<Response> delete(@PathParam("tenant") String tenant, @PathParam("name") String name) {
        check(tenant, name);
        return definitions.delete(tenant, name).map(deleted -> {
            if (!deleted) {
                throw notFound(tenant, name);
            }
            return Response.noContent().build();
        });
    }

    private void check(String tenant, String name) {
        NAMED.check(caller, tenant, name);
    }

    private static ProblemException notFound(String tenant, String name) {
        return NAMED.notFound(tenant, name);
    }
}

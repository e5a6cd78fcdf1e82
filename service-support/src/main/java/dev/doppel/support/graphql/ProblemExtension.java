package dev.doppel.support.graphql;

import dev.doppel.support.rest.ProblemException;
import io.smallrye.graphql.api.ErrorExtensionProvider;
import jakarta.json.Json;
import jakarta.json.JsonValue;

/**
 * Puts the problem behind a GraphQL error into its extensions, so a client branches on the same
 * stable type as with the REST API: {@code "extensions": {"problem": {"type": ..., "status": 412}}}.
 */
public class ProblemExtension implements ErrorExtensionProvider {

    @Override
    public String getKey() {
        return "problem";
    }

    @Override
    public JsonValue mapValueFrom(Throwable exception) {
        Throwable e = exception;
        while (e != null && !(e instanceof ProblemException)) {
            e = e.getCause();
        }
        if (!(e instanceof ProblemException p)) {
            return null;
        }
        return Json.createObjectBuilder().add("type", p.problem().type()).add("title", p.problem().title())
                .add("status", p.problem().status()).build();
    }
}

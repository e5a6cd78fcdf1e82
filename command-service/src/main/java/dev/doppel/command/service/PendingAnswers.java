package dev.doppel.command.service;

import dev.doppel.contracts.CommandStatusChanged;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** Callers on this instance waiting for the outcome of a command (synchronous inbox messages). */
@ApplicationScoped
public class PendingAnswers {

    private final Map<String, CompletableFuture<CommandStatusChanged>> waiting = new ConcurrentHashMap<>();

    public CompletableFuture<CommandStatusChanged> expect(String commandId) {
        return waiting.computeIfAbsent(commandId, id -> new CompletableFuture<>());
    }

    /** Completes a waiting caller with a final outcome; does nothing if nobody here waits. */
    public void complete(CommandStatusChanged status) {
        CompletableFuture<CommandStatusChanged> f = waiting.remove(status.commandId());
        if (f != null) {
            f.complete(status);
        }
    }

    public void forget(String commandId) {
        waiting.remove(commandId);
    }
}

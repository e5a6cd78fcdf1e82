package dev.doppel.command.service;

import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Callers on this instance waiting for the outcome of a command (synchronous inbox messages), and the
 * steps their commands took on the way (SENT, DELIVERED), so that the end is recorded together with
 * them in one write.
 */
@ApplicationScoped
public class PendingAnswers {

    private final Map<String, Waiter> waiting = new ConcurrentHashMap<>();

    private static final class Waiter {
        final CompletableFuture<CommandStatusChanged> answer = new CompletableFuture<>();
        /** Completes when the caller stops waiting: answered, or given up. */
        final CompletableFuture<Void> over = new CompletableFuture<>();
        /** At most as many as there are statuses: a device's side repeating itself cannot make it grow. */
        final List<CommandStatusChanged> steps = new ArrayList<>(2);
    }

    public CompletableFuture<CommandStatusChanged> expect(String commandId) {
        return waiting.computeIfAbsent(commandId, id -> new Waiter()).answer;
    }

    public boolean isWaiting(String commandId) {
        return waiting.containsKey(commandId);
    }

    /** Completes when the caller waiting here for the command stops waiting; null if none waits. */
    public CompletableFuture<Void> waitOver(String commandId) {
        Waiter w = waiting.get(commandId);
        return w == null ? null : w.over;
    }

    /** Keeps a step of a command a caller here waits for (nothing if nobody does). */
    public void heard(CommandStatusChanged step) {
        Waiter w = waiting.get(step.commandId());
        if (w != null) {
            synchronized (w.steps) {
                if (w.steps.size() < CommandStatus.values().length) {
                    w.steps.add(step);
                }
            }
        }
    }

    /** The steps kept for a command, in the order they were heard. */
    public List<CommandStatusChanged> heardSteps(String commandId) {
        Waiter w = waiting.get(commandId);
        if (w == null) {
            return List.of();
        }
        synchronized (w.steps) {
            return List.copyOf(w.steps);
        }
    }

    /** Completes a waiting caller with a final outcome; does nothing if nobody here waits. */
    public void complete(CommandStatusChanged status) {
        Waiter w = waiting.remove(status.commandId());
        if (w != null) {
            w.answer.complete(status);
            w.over.complete(null);
        }
    }

    public void forget(String commandId) {
        Waiter w = waiting.remove(commandId);
        if (w != null) {
            w.over.complete(null);
        }
    }
}

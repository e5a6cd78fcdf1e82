package dev.doppel.twin.service;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.concurrent.Executor;

/**
 * Where work done for a caller on another caller's thread goes on: the Vert.x context the caller
 * asked on. Mutiny does not carry contexts from step to step here (see application.properties), and
 * a request's context (the REST layer's request scope, the current span) lives in its Vert.x
 * context, so an answer computed in a shared batch is handed back to each caller's own.
 */
final class CallerContext {

    private CallerContext() {
    }

    /** Runs tasks on {@code context}: at once when already on it (or there is none), else queued to it. */
    static Executor of(Context context) {
        return task -> {
            if (context == null || context == Vertx.currentContext()) {
                task.run();
            } else {
                context.runOnContext(v -> task.run());
            }
        };
    }

    /** {@link #of} the context of the calling thread. */
    static Executor current() {
        return of(Vertx.currentContext());
    }
}

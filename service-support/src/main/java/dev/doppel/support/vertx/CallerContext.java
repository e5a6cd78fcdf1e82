package dev.doppel.support.vertx;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.concurrent.Executor;

/**
 * Where work done for a caller on another caller's thread goes on: the Vert.x context the caller
 * asked on. Mutiny does not carry contexts from step to step in the services (each turns context
 * propagation off in its application.properties: capturing and restoring it on every step was a
 * fifth of their CPU), and a request's context (the REST layer's request scope, the current span)
 * lives in its Vert.x context, so an answer computed in a shared batch, or completed by a consumer
 * thread, is handed back to each caller's own.
 */
public final class CallerContext {

    private CallerContext() {
    }

    /** Runs tasks on {@code context}: at once when already on it (or there is none), else queued to it. */
    public static Executor of(Context context) {
        return task -> {
            if (context == null || context == Vertx.currentContext()) {
                task.run();
            } else {
                context.runOnContext(v -> task.run());
            }
        };
    }

    /** {@link #of} the context of the calling thread. */
    public static Executor current() {
        return of(Vertx.currentContext());
    }
}

package dev.doppel.connectivity.registry;

import io.smallrye.mutiny.Uni;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Where device passwords are checked: a pool of its own, {@code doppel.registry.password-checks-at-once}
 * threads (the number of cores by default) and {@code password-checks-waiting} checks queued (64). A
 * check beyond that is refused at once ({@link Busy}: the device is told to come back later) instead of
 * waiting. A password check is deliberately slow (PBKDF2, 100,000 iterations, also for an unknown
 * auth-id), so without this bound a flood of made-up logins took every worker thread of the service
 * and the connections of real devices waited behind it.
 */
@ApplicationScoped
public class PasswordChecks {

    /** More checks are running and waiting than allowed: the login is answered "busy". */
    public static final class Busy extends RuntimeException {
        Busy() {
            super("too many password checks at once", null, false, false);
        }
    }

    private final ThreadPoolExecutor pool;

    public PasswordChecks(
            @ConfigProperty(name = "doppel.registry.password-checks-at-once", defaultValue = "0") int atOnce,
            @ConfigProperty(name = "doppel.registry.password-checks-waiting", defaultValue = "64") int waiting) {
        int threads = atOnce > 0 ? atOnce : Runtime.getRuntime().availableProcessors();
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                waiting > 0 ? new ArrayBlockingQueue<>(waiting) : new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "password-check-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
    }

    /** Runs the check on the pool; fails with {@link Busy} when it is full. */
    public <T> Uni<T> run(Supplier<T> check) {
        return Uni.createFrom().emitter(result -> {
            try {
                pool.execute(() -> {
                    try {
                        result.complete(check.get());
                    } catch (RuntimeException e) {
                        result.fail(e);
                    }
                });
            } catch (RejectedExecutionException e) {
                result.fail(new Busy());
            }
        });
    }

    @PreDestroy
    void stop() {
        pool.shutdownNow();
    }
}

package dev.doppel.devstack.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects what a service running in the test's JVM ({@code @QuarkusTest}) logs on one logger (and
 * those below it) at a level or above, for tests that assert what hostile input must not cause:
 * {@link #eventLoopsBlocked()} (an event loop busy past {@code quarkus.vertx.max-event-loop-execute-time},
 * 2 s by default, as Vert.x reports it) and {@link #errors()}. Quarkus routes its and Vert.x's logging
 * to the JDK's log manager, where a handler sees the records that pass the loggers' filters.
 */
public final class LogWatch implements AutoCloseable {

    /** Where Vert.x warns that a thread was blocked. */
    public static final String BLOCKED_THREAD_CHECKER = "io.vertx.core.impl.BlockedThreadChecker";

    private final Logger logger;
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private final Handler handler;

    /**
     * Watches from the root logger, which lives as long as the log manager: a handler added to the
     * logger of that name went unseen after the first watch in a JVM (the JDK keeps a logger only
     * while someone holds it, and the one a later watch got was not the one Vert.x logs to).
     */
    public LogWatch(String loggerName, Level atLeast) {
        this.logger = Logger.getLogger("");
        this.handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                String name = record.getLoggerName() == null ? "" : record.getLoggerName();
                if (record.getLevel().intValue() >= atLeast.intValue() && (loggerName.isEmpty()
                        || name.equals(loggerName) || name.startsWith(loggerName + "."))) {
                    seen.add(record.getLoggerName() + ": " + record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
    }

    /** Vert.x's warnings that an event loop (or another of its threads) was blocked. */
    public static LogWatch eventLoopsBlocked() {
        return new LogWatch(BLOCKED_THREAD_CHECKER, Level.WARNING);
    }

    /**
     * Fails if an event loop was reported blocked since this {@link #eventLoopsBlocked()} watch began;
     * then shows that the watch was seeing (the positive control): {@code onEventLoop} runs the task it
     * is given on an event loop of the service under test (such as
     * {@code r -> ((VertxInternal) vertx).createEventLoopContext().runOnContext(v -> r.run())}), the
     * task blocks it for 4.5 s, past the 2 s Vert.x allows, and the warning must arrive. The control
     * comes last because in these tests Vert.x's checker reported only the first block of a service
     * instance (a second one, on another event loop, went unreported): shown first, it would leave
     * what follows unwatched. So one such watch per service instance.
     */
    public void assertNoneBlockedThenSeeOne(Consumer<Runnable> onEventLoop) throws InterruptedException {
        if (!seen.isEmpty()) {
            throw new AssertionError("an event loop was blocked: " + seen);
        }
        onEventLoop.accept(() -> {
            try {
                Thread.sleep(4_500); // Vert.x looks every 2 s (quarkus.vertx.warning-exception-time)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (seen.isEmpty() && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        if (seen.isEmpty()) {
            throw new AssertionError("the watch did not see an event loop blocked on purpose: it may have been"
                    + " blind all along (did an earlier test in this JVM block one?)");
        }
    }

    /** Everything logged as an error, from any logger. */
    public static LogWatch errors() {
        return new LogWatch("", Level.SEVERE);
    }

    /** What was logged since this watch started: each record's logger and message. */
    public List<String> seen() {
        return List.copyOf(seen);
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}

package dev.doppel.devstack.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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

    public LogWatch(String loggerName, Level atLeast) {
        this.logger = Logger.getLogger(loggerName);
        this.handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= atLeast.intValue()) {
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

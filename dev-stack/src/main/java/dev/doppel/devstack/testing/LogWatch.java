package dev.doppel.devstack.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects what a service running in the test's JVM ({@code @QuarkusTest}) logs on one logger (and
 * those below it) at a level or above, for tests that assert what hostile input must not cause, such
 * as {@link #errors()}. Quarkus routes its and Vert.x's logging to the JDK's log manager, where a
 * handler sees the records that pass the loggers' filters. (Held event loops: {@link EventLoopLag}.)
 */
public final class LogWatch implements AutoCloseable {

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
                    Object[] parameters = record.getParameters();
                    seen.add(record.getLoggerName() + ": " + record.getMessage()
                            + (parameters == null || parameters.length == 0 ? "" : " " + java.util.Arrays.toString(parameters)));
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

    /** Everything logged as an error, from any logger. */
    public static LogWatch errors() {
        return new LogWatch("", Level.SEVERE);
    }

    /** What was logged since this watch started: each record's logger, message and its parameters. */
    public List<String> seen() {
        return List.copyOf(seen);
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}

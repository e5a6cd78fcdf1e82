package dev.doppel.devstack.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Catches Vert.x's warnings that a thread was blocked (an event loop busy past
 * {@code quarkus.vertx.max-event-loop-execute-time}, 2 s by default) in a service running in the test's
 * JVM ({@code @QuarkusTest}), so a fuzz test can assert that no input stalled an event loop. Vert.x
 * logs them on {@value #LOGGER}; Quarkus routes Vert.x's logging to the JDK's log manager, where a
 * handler sees them.
 */
public final class EventLoopWatch implements AutoCloseable {

    public static final String LOGGER = "io.vertx.core.impl.BlockedThreadChecker";

    private final Logger logger = Logger.getLogger(LOGGER);
    private final List<String> blocked = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                blocked.add(record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    public EventLoopWatch() {
        logger.addHandler(handler);
    }

    /** The warnings seen since this watch started. */
    public List<String> blocked() {
        return List.copyOf(blocked);
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}

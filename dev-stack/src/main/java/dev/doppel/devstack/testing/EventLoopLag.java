package dev.doppel.devstack.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Watches how long the event loops of a service running in the test's JVM ({@code @QuarkusTest}) are
 * held, for tests that assert what hostile input must not cause: every 50 ms each loop is given a
 * small task, and the time it waits to run is its lag (a task still waiting counts as it waits).
 * Give it Vert.x's loops: {@code EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup())}.
 *
 * <p>It measures for itself rather than reading Vert.x's blocked-thread warnings: in these tests
 * Vert.x reported only the first block of a service instance, so a second watch in the same JVM was
 * blind. This one can be started and proved any number of times.
 */
public final class EventLoopLag implements AutoCloseable {

    private static final long TICK_MS = 50;

    private final List<Executor> loops = new ArrayList<>();
    /** When each loop's pending task was given to it (nanoTime), or 0 when none is pending. */
    private final AtomicLongArray pendingSince;
    private final AtomicLong worstNanos = new AtomicLong();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "event-loop-lag");
        t.setDaemon(true);
        return t;
    });

    private EventLoopLag(Iterable<? extends Executor> loops) {
        loops.forEach(this.loops::add);
        if (this.loops.isEmpty()) {
            throw new IllegalArgumentException("no event loops to watch");
        }
        pendingSince = new AtomicLongArray(this.loops.size());
        ticker.scheduleAtFixedRate(this::tick, 0, TICK_MS, TimeUnit.MILLISECONDS);
    }

    /** Starts watching {@code loops} (Netty's event loop group is an iterable of them). */
    public static EventLoopLag watch(Iterable<? extends Executor> loops) {
        return new EventLoopLag(loops);
    }

    private void tick() {
        long now = System.nanoTime();
        for (int i = 0; i < loops.size(); i++) {
            long since = pendingSince.get(i);
            if (since != 0) {
                worstNanos.accumulateAndGet(now - since, Math::max);
                continue;
            }
            pendingSince.set(i, now);
            int loop = i;
            loops.get(i).execute(() -> {
                worstNanos.accumulateAndGet(System.nanoTime() - now, Math::max);
                pendingSince.set(loop, 0);
            });
        }
    }

    /** The longest an event loop was held since the watch began. */
    public Duration worst() {
        return Duration.ofNanos(worstNanos.get());
    }

    /**
     * Fails if an event loop was held for {@code limit} or longer since the watch began; then shows
     * that the watch sees (the positive control): one loop is held on purpose for longer than the
     * limit, and the watch must report it. Ends the watch.
     */
    public void assertNoneHeldLongerThan(Duration limit) throws InterruptedException {
        Duration worst = worst();
        if (worst.compareTo(limit) >= 0) {
            close();
            throw new AssertionError("an event loop was held for " + worst.toMillis() + " ms (the limit is "
                    + limit.toMillis() + " ms)");
        }
        long hold = limit.toMillis() + 500;
        loops.get(0).execute(() -> {
            try {
                Thread.sleep(hold);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(hold + 10_000);
        while (worst().compareTo(limit) < 0 && System.nanoTime() < until) {
            Thread.sleep(TICK_MS);
        }
        close();
        if (worst().compareTo(limit) < 0) {
            throw new AssertionError("the watch did not see an event loop held on purpose for " + hold
                    + " ms: it proves nothing");
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }
}

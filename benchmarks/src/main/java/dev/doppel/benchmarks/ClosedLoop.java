package dev.doppel.benchmarks;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/** The load driver the benchmarks share: N threads, each doing one operation after the other. */
final class ClosedLoop {

    interface Op {
        /** @return whether the operation succeeded; an exception counts as an error too */
        boolean run(int worker, ThreadLocalRandom random) throws Exception;
    }

    record Result(double perSecond, Histogram latency, long errors) {

        double ms(double percentile) {
            return latency.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    private ClosedLoop() {
    }

    /** Runs {@code op} on {@code concurrency} threads for the given time, after a warm-up of a third of it. */
    static Result measure(int concurrency, int seconds, Op op) throws InterruptedException {
        return measure(concurrency, Math.max(1, seconds / 3), seconds, op);
    }

    /** Runs {@code op} on {@code concurrency} threads for {@code warmup} seconds unmeasured, then measured. */
    static Result measure(int concurrency, int warmup, int seconds, Op op) throws InterruptedException {
        return measure(concurrency, warmup, seconds, op, null);
    }

    /** Told when the measured part begins and ends (to take other figures over the same window). */
    interface Window {
        void opened();

        void closed(Result result);
    }

    static Result measure(int concurrency, int warmup, int seconds, Op op, Window window)
            throws InterruptedException {
        run(concurrency, warmup, op, new ConcurrentHistogram(3), new AtomicLong(), new AtomicLong());
        Histogram latency = new ConcurrentHistogram(3);
        AtomicLong ok = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        if (window != null) {
            window.opened();
        }
        run(concurrency, seconds, op, latency, ok, errors);
        Result result = new Result(ok.get() / (double) seconds, latency, errors.get());
        if (window != null) {
            window.closed(result);
        }
        return result;
    }

    /** One row of a results table: the reference, ours, and their ratio. */
    static void row(String name, double ref, double ours) {
        System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.2f |%n", name, ref, ours, ours / ref);
    }

    private static void run(int concurrency, int seconds, Op op, Histogram latency, AtomicLong ok, AtomicLong errors)
            throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        Thread[] threads = new Thread[concurrency];
        for (int i = 0; i < concurrency; i++) {
            int worker = i;
            threads[i] = Thread.ofPlatform().start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (System.nanoTime() < end) {
                    long t = System.nanoTime();
                    try {
                        if (op.run(worker, random)) {
                            latency.recordValue((System.nanoTime() - t) / 1000);
                            ok.incrementAndGet();
                        } else {
                            errors.incrementAndGet();
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                }
            });
        }
        for (Thread t : threads) {
            t.join();
        }
    }
}

package dev.doppel.connectivity.limits;

/**
 * A token bucket: tokens refill at a rate per second up to a capacity, and each admitted event takes
 * one. Starts full. The rate and capacity are passed on every call, so a changed limit counts at once.
 */
final class TokenBucket {

    private double tokens = Double.NaN;
    private long last;

    /** Takes a token if there is one; {@code false} when the events come faster than the rate allows. */
    synchronized boolean take(double perSecond, double capacity, long nanoTime) {
        refill(perSecond, capacity, nanoTime);
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** Whether the bucket has refilled to its capacity by now: it limits nobody and may be forgotten. */
    synchronized boolean full(double perSecond, double capacity, long nanoTime) {
        refill(perSecond, capacity, nanoTime);
        return tokens >= capacity;
    }

    private void refill(double perSecond, double capacity, long nanoTime) {
        tokens = Double.isNaN(tokens) ? capacity : Math.min(capacity, tokens + (nanoTime - last) / 1e9 * perSecond);
        last = nanoTime;
    }
}

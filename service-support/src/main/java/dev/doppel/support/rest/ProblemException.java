package dev.doppel.support.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import java.time.Duration;
import java.util.Optional;

/** An error that becomes an RFC 9457 problem response. */
public final class ProblemException extends RuntimeException {

    private final transient Problem problem;
    private final Duration retryAfter;

    public ProblemException(Problem problem) {
        this(problem, null);
    }

    /** A problem that passes (503, 429): {@code retryAfter} becomes the response's {@code Retry-After}. */
    public ProblemException(Problem problem, Duration retryAfter) {
        super(problem.detail(), null, false, false);
        this.problem = problem;
        this.retryAfter = retryAfter;
    }

    public Problem problem() {
        return problem;
    }

    /** When the client may try again, or empty when it should not without changing the request. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    public static ThingId parseThingId(String value) {
        try {
            return ThingId.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.of("invalid-thing-id", "Invalid thing id", 400, e.getMessage(), null));
        }
    }
}

package dev.doppel.support.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;

/** An error that becomes an RFC 9457 problem response. */
public final class ProblemException extends RuntimeException {

    private final transient Problem problem;

    public ProblemException(Problem problem) {
        super(problem.detail(), null, false, false);
        this.problem = problem;
    }

    public Problem problem() {
        return problem;
    }

    public static ThingId parseThingId(String value) {
        try {
            return ThingId.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ProblemException(Problem.of("invalid-thing-id", "Invalid thing id", 400, e.getMessage(), null));
        }
    }
}

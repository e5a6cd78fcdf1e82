package dev.doppel.twin.search;

import java.util.List;

/** The parsed form of an RQL filter (Eclipse Ditto's subset of Resource Query Language). */
public sealed interface Rql {

    enum Op { EQ, NE, GT, GE, LT, LE }

    /** {@code eq(attributes/x,5)} and its siblings. */
    record Compare(Op op, String property, Object value) implements Rql {
    }

    /** {@code in(property,v1,v2,...)}. */
    record In(String property, List<Object> values) implements Rql {
    }

    /** {@code like(property,"pat*ern?")}: {@code *} any characters, {@code ?} one. */
    record Like(String property, String pattern) implements Rql {
    }

    /** {@code exists(property)}. */
    record Exists(String property) implements Rql {
    }

    record And(List<Rql> operands) implements Rql {
    }

    record Or(List<Rql> operands) implements Rql {
    }

    record Not(Rql operand) implements Rql {
    }

    /** A filter that cannot be parsed; {@code position} is the 0-based offset of the problem. */
    final class SyntaxError extends RuntimeException {
        private final int position;

        public SyntaxError(String message, int position) {
            super("RQL error at position " + position + ": " + message, null, false, false);
            this.position = position;
        }

        public int position() {
            return position;
        }
    }
}

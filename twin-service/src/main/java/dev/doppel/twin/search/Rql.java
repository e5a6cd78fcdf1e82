package dev.doppel.twin.search;

import java.util.List;

/** The parsed form of an RQL filter (Eclipse Ditto's subset of Resource Query Language). */
public sealed interface Rql {

    enum Op { EQ, NE, GT, GE, LT, LE }

    /**
     * {@code eq(attributes/x,5)} and its siblings. As in Ditto, each matches only things that have the
     * property: {@code ne(attributes/x,5)} not a thing without {@code x}, {@code eq(attributes/x,null)}
     * only one whose {@code x} is null ({@code not(...)} is what matches the others).
     */
    record Compare(Op op, String property, Object value) implements Rql {
    }

    /** {@code in(property,v1,v2,...)}: things that have the property, with one of the values. */
    record In(String property, List<Object> values) implements Rql {
    }

    /** {@code like(property,"pat*ern?")}: {@code *} any characters, {@code ?} one; {@code ilike} ignores case. */
    record Like(String property, String pattern, boolean ignoreCase) implements Rql {

        public Like(String property, String pattern) {
            this(property, pattern, false);
        }
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

package dev.doppel.twin.search;

import dev.doppel.twin.search.Rql.SyntaxError;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A recursive-descent parser for RQL filters. It accepts only the operators it names; anything else is
 * a syntax error with its position. Properties are checked later against what a twin has.
 *
 * <pre>
 * query    = op
 * op       = name "(" args ")"
 * logical  = and|or "(" op {"," op} ")" | not "(" op ")"
 * compare  = eq|ne|gt|ge|lt|le "(" property "," value ")" | in "(" property "," value {"," value} ")"
 *          | like "(" property "," string ")" | exists "(" property ")"
 * value    = string | number | true | false | null
 * </pre>
 */
public final class RqlParser {

    static final int MAX_DEPTH = 16;
    static final int MAX_LENGTH = 4096;
    private static final Set<String> COMPARE = Set.of("eq", "ne", "gt", "ge", "lt", "le");

    private final String in;
    private int pos;

    private RqlParser(String in) {
        this.in = in;
    }

    public static Rql parse(String filter) {
        if (filter == null || filter.isBlank()) {
            throw new SyntaxError("empty filter", 0);
        }
        if (filter.length() > MAX_LENGTH) {
            throw new SyntaxError("filter longer than " + MAX_LENGTH + " characters", MAX_LENGTH);
        }
        RqlParser p = new RqlParser(filter);
        Rql result = p.op(1);
        p.skipSpace();
        if (p.pos != filter.length()) {
            throw new SyntaxError("unexpected '" + filter.charAt(p.pos) + "' after the end of the filter", p.pos);
        }
        return result;
    }

    private Rql op(int depth) {
        if (depth > MAX_DEPTH) {
            throw new SyntaxError("filter nests deeper than " + MAX_DEPTH + " levels", pos);
        }
        skipSpace();
        int start = pos;
        String name = word();
        expect('(');
        Rql result;
        if (COMPARE.contains(name)) {
            String property = property();
            expect(',');
            result = new Rql.Compare(Rql.Op.valueOf(name.toUpperCase()), property, value());
        } else {
            switch (name) {
                case "in" -> {
                    String property = property();
                    List<Object> values = new ArrayList<>();
                    do {
                        expect(',');
                        values.add(value());
                    } while (peek() == ',');
                    result = new Rql.In(property, values);
                }
                case "like" -> {
                    String property = property();
                    expect(',');
                    skipSpace();
                    int at = pos;
                    if (!(value() instanceof String pattern)) {
                        throw new SyntaxError("like needs a quoted pattern", at);
                    }
                    result = new Rql.Like(property, pattern);
                }
                case "exists" -> result = new Rql.Exists(property());
                case "and", "or" -> {
                    List<Rql> operands = new ArrayList<>();
                    operands.add(op(depth + 1));
                    while (peek() == ',') {
                        expect(',');
                        operands.add(op(depth + 1));
                    }
                    result = name.equals("and") ? new Rql.And(operands) : new Rql.Or(operands);
                }
                case "not" -> result = new Rql.Not(op(depth + 1));
                default -> throw new SyntaxError("unknown operator '" + name + "' (use eq, ne, gt, ge, lt, le, in, "
                        + "like, exists, and, or, not)", start);
            }
        }
        expect(')');
        return result;
    }

    private String word() {
        int start = pos;
        while (pos < in.length() && Character.isLetter(in.charAt(pos))) {
            pos++;
        }
        if (start == pos) {
            throw new SyntaxError(pos < in.length() ? "expected an operator, found '" + in.charAt(pos) + "'"
                    : "expected an operator, found the end", pos);
        }
        return in.substring(start, pos);
    }

    private String property() {
        skipSpace();
        int start = pos;
        while (pos < in.length() && ",()\" ".indexOf(in.charAt(pos)) < 0) {
            pos++;
        }
        if (start == pos) {
            throw new SyntaxError("expected a property like attributes/x or features/f/properties/p", pos);
        }
        return in.substring(start, pos);
    }

    private Object value() {
        skipSpace();
        int start = pos;
        if (pos >= in.length()) {
            throw new SyntaxError("expected a value, found the end", pos);
        }
        char c = in.charAt(pos);
        if (c == '"') {
            StringBuilder s = new StringBuilder();
            pos++;
            while (pos < in.length() && in.charAt(pos) != '"') {
                if (in.charAt(pos) == '\\' && pos + 1 < in.length()) {
                    pos++;
                }
                s.append(in.charAt(pos++));
            }
            if (pos >= in.length()) {
                throw new SyntaxError("string not closed", start);
            }
            pos++;
            return s.toString();
        }
        while (pos < in.length() && ",() ".indexOf(in.charAt(pos)) < 0) {
            pos++;
        }
        String token = in.substring(start, pos);
        switch (token) {
            case "true":
                return true;
            case "false":
                return false;
            case "null":
                return null;
            default:
                break;
        }
        try {
            BigDecimal n = new BigDecimal(token);
            if (n.scale() <= 0 && n.abs().compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) <= 0) {
                return n.longValueExact();
            }
            return n.doubleValue();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new SyntaxError("expected a value (\"string\", number, true, false or null), found '" + token + "'",
                    start);
        }
    }

    private void expect(char c) {
        skipSpace();
        if (pos >= in.length() || in.charAt(pos) != c) {
            throw new SyntaxError("expected '" + c + "'" + (pos < in.length() ? ", found '" + in.charAt(pos) + "'"
                    : ", found the end"), pos);
        }
        pos++;
    }

    private char peek() {
        skipSpace();
        return pos < in.length() ? in.charAt(pos) : 0;
    }

    private void skipSpace() {
        while (pos < in.length() && in.charAt(pos) == ' ') {
            pos++;
        }
    }
}

package dev.doppel.twin.search;

import com.mongodb.client.model.Filters;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.TwinPath;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bson.conversions.Bson;

/**
 * Turns a parsed RQL filter into a MongoDB filter over the {@code twins} collection. Only the
 * operators of the grammar are produced (never {@code $where}, {@code $function} or
 * {@code $expr}), and every property is checked against the paths a twin has, whose keys cannot
 * contain {@code $} or {@code .}, so nothing in a filter can become an operator or reach another
 * field.
 */
public final class RqlToMongo {

    private RqlToMongo() {
    }

    public static Bson filter(Rql rql) {
        return switch (rql) {
            case Rql.Compare c -> compare(c);
            case Rql.In i -> Filters.in(field(i.property()), i.values().stream().map(v -> value(i.property(), v)).toList());
            case Rql.Like l -> Filters.regex(field(l.property()), likeToRegex(l.pattern()));
            case Rql.Exists e -> Filters.exists(field(e.property()));
            case Rql.And a -> Filters.and(a.operands().stream().map(RqlToMongo::filter).toList());
            case Rql.Or o -> Filters.or(o.operands().stream().map(RqlToMongo::filter).toList());
            case Rql.Not n -> Filters.nor(filter(n.operand()));
        };
    }

    private static Bson compare(Rql.Compare c) {
        String f = field(c.property());
        Object v = value(c.property(), c.value());
        return switch (c.op()) {
            case EQ -> Filters.eq(f, v);
            case NE -> Filters.ne(f, v);
            case GT -> Filters.gt(f, v);
            case GE -> Filters.gte(f, v);
            case LT -> Filters.lt(f, v);
            case LE -> Filters.lte(f, v);
        };
    }

    /** The document field of an RQL property; throws {@link InvalidReport} for anything a twin does not have. */
    public static String field(String property) {
        switch (property) {
            case "thingId":
                return "_id";
            case "_modified", "_created", "_revision", "definition":
                return property;
            default:
                break;
        }
        TwinPath path = TwinPath.parse(property);
        TwinPath.Kind kind = path.kind();
        boolean leafOfBag = (kind == TwinPath.Kind.ATTRIBUTES && path.segments().size() > 1)
                || ((kind == TwinPath.Kind.PROPERTIES || kind == TwinPath.Kind.DESIRED) && path.segments().size() > 3)
                || kind == TwinPath.Kind.FEATURE || kind == TwinPath.Kind.FEATURE_DEFINITION;
        if (!leafOfBag) {
            throw new InvalidReport("invalid-property", "cannot search on '" + property + "': use thingId, "
                    + "_modified, _created, _revision, definition, attributes/{path}, features/{id}, "
                    + "features/{id}/properties/{path} or features/{id}/desiredProperties/{path}");
        }
        return String.join(".", path.segments());
    }

    /** Dates are compared as dates: {@code _modified} and {@code _created} take ISO-8601 strings. */
    private static Object value(String property, Object value) {
        if (("_modified".equals(property) || "_created".equals(property)) && value instanceof String s) {
            try {
                return Date.from(Instant.parse(s));
            } catch (DateTimeParseException e) {
                throw new InvalidReport("invalid-value", property + " takes an ISO-8601 time, not '" + s + "'");
            }
        }
        return value;
    }

    /**
     * RQL {@code like} ({@code *} any run, {@code ?} one character, all else literal) as an anchored
     * regex, evaluated both by the store and, for live subscriptions, in Java ({@link RqlMatcher}).
     *
     * <p>Written so that it cannot backtrack without bound: {@code "*a*a*a*b"} as {@code .*a.*a.*a.*b}
     * takes time to the power of its stars on a long value that fails (ReDoS, in the store's lock).
     * Here each part between stars but the last is matched where it first occurs and never given
     * back ({@code (?:(?!part).)*+part}, possessive), which is where a glob match may always take it;
     * only the last part is found by backtracking, once. Cost: about the value's length times the
     * pattern's.
     */
    static Pattern likeToRegex(String like) {
        String[] parts = like.split("\\*", -1);
        StringBuilder regex = new StringBuilder("^").append(literal(parts[0]));
        if (parts.length > 1) {
            for (int i = 1; i < parts.length - 1; i++) {
                if (!parts[i].isEmpty()) {
                    String part = literal(parts[i]);
                    regex.append("(?:(?!").append(part).append(").)*+").append(part);
                }
            }
            regex.append(".*").append(literal(parts[parts.length - 1]));
        }
        return Pattern.compile(regex.append('$').toString(), Pattern.DOTALL);
    }

    /** A part of a like pattern without stars: '?' is any one character, everything else literal. */
    private static String literal(String part) {
        StringBuilder out = new StringBuilder();
        for (char c : part.toCharArray()) {
            out.append(c == '?' ? "." : Pattern.quote(String.valueOf(c)));
        }
        return out.toString();
    }

    public static List<String> fields(List<String> properties) {
        return properties.stream().map(RqlToMongo::field).toList();
    }
}

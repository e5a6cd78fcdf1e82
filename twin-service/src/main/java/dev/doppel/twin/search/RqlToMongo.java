package dev.doppel.twin.search;

import com.mongodb.client.model.Filters;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.TwinPath;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bson.Document;
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
            case Rql.In i -> i.values().contains(null)
                    ? present(field(i.property()), "$in", i.values().stream().map(v -> value(i.property(), v)).toList())
                    : Filters.in(field(i.property()), i.values().stream().map(v -> value(i.property(), v)).toList());
            // The store's own options: 's' as DOTALL, 'i' (Unicode-aware in MongoDB) as the matcher's.
            case Rql.Like l -> Filters.regex(field(l.property()), likeToRegex(l.pattern(), l.ignoreCase()).pattern(),
                    l.ignoreCase() ? "si" : "s");
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
            // A missing field counts as null to MongoDB; to Ditto it is not there at all.
            case EQ -> v == null ? present(f, "$eq", null) : Filters.eq(f, v);
            case NE -> present(f, "$ne", v);
            case GT -> Filters.gt(f, v);
            case GE -> Filters.gte(f, v);
            case LT -> Filters.lt(f, v);
            case LE -> Filters.lte(f, v);
        };
    }

    /** {@code {field: {$exists: true, operator: value}}}: only documents that have the field. */
    private static Bson present(String field, String operator, Object value) {
        return new Document(field, new Document("$exists", true).append(operator, value));
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

    /**
     * Dates are compared as dates: {@code _modified} and {@code _created} take ISO-8601 times, whole
     * or cut short as Ditto allows ({@code "2026-12"}, {@code "2026-12-07T10"}: the start of that month
     * or hour, UTC unless an offset is given).
     */
    private static Object value(String property, Object value) {
        if (isTime(property) && value instanceof String s) {
            return Date.from(time(property, s));
        }
        return value;
    }

    static boolean isTime(String property) {
        return "_modified".equals(property) || "_created".equals(property);
    }

    private static final DateTimeFormatter PARTIAL_TIME = new DateTimeFormatterBuilder()
            .appendPattern("uuuu").optionalStart().appendPattern("-MM").optionalStart().appendPattern("-dd")
            .optionalStart().appendPattern("'T'HH").optionalStart().appendPattern(":mm").optionalStart()
            .appendPattern(":ss").optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
            .optionalEnd().optionalEnd().optionalEnd().optionalEnd().optionalEnd().optionalEnd()
            .optionalStart().appendOffsetId().optionalEnd()
            .parseDefaulting(ChronoField.MONTH_OF_YEAR, 1).parseDefaulting(ChronoField.DAY_OF_MONTH, 1)
            .parseDefaulting(ChronoField.HOUR_OF_DAY, 0).parseDefaulting(ChronoField.MINUTE_OF_HOUR, 0)
            .parseDefaulting(ChronoField.SECOND_OF_MINUTE, 0).parseDefaulting(ChronoField.OFFSET_SECONDS, 0)
            .toFormatter().withResolverStyle(ResolverStyle.STRICT);

    /** An ISO-8601 time, whole or cut short, of {@code _modified} or {@code _created}. */
    static Instant time(String property, String s) {
        try {
            return OffsetDateTime.from(PARTIAL_TIME.parse(s)).toInstant();
        } catch (DateTimeParseException e) {
            throw new InvalidReport("invalid-value", property + " takes an ISO-8601 time (2026-12-07T10:15:00Z, "
                    + "or cut short: 2026-12), not '" + s + "'");
        }
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
        return likeToRegex(like, false);
    }

    /** {@link #likeToRegex(String)}, ignoring case for {@code ilike}. */
    static Pattern likeToRegex(String like, boolean ignoreCase) {
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
        return Pattern.compile(regex.append('$').toString(),
                Pattern.DOTALL | (ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0));
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

package dev.doppel.twin.search;

import dev.doppel.twin.model.Twin;
import dev.doppel.twin.model.TwinPath;
import dev.doppel.twin.model.TwinTree;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * Evaluates an RQL filter against one twin in memory, for live streams (search runs in MongoDB,
 * {@link RqlToMongo}); the two agree on the same table of filters ({@code RqlSemanticsIT}).
 */
public final class RqlMatcher {

    private RqlMatcher() {
    }

    /** A property's value, and whether the twin has the property at all (its value may be null). */
    private record Found(boolean present, Object value) {
    }

    private static final Found MISSING = new Found(false, null);

    public static boolean matches(Rql rql, Twin twin) {
        return matches(rql, twin, null);
    }

    private static boolean matches(Rql rql, Twin twin, Map<String, Object> tree) {
        Map<String, Object> t = tree != null ? tree : TwinTree.of(twin);
        return switch (rql) {
            case Rql.Compare c -> compare(c, find(twin, t, c.property()));
            case Rql.In i -> {
                Found found = find(twin, t, i.property());
                yield found.present() && i.values().stream().anyMatch(v -> equal(i.property(), v, found.value()));
            }
            case Rql.Like l -> find(twin, t, l.property()).value() instanceof String s
                    && RqlToMongo.likeToRegex(l.pattern(), l.ignoreCase()).matcher(s).matches();
            case Rql.Exists e -> find(twin, t, e.property()).present();
            case Rql.And a -> a.operands().stream().allMatch(o -> matches(o, twin, t));
            case Rql.Or o -> o.operands().stream().anyMatch(x -> matches(x, twin, t));
            case Rql.Not n -> !matches(n.operand(), twin, t);
        };
    }

    private static Found find(Twin twin, Map<String, Object> tree, String property) {
        RqlToMongo.field(property); // same properties as search
        return switch (property) {
            case "thingId" -> new Found(true, twin.thingId().toString());
            case "_revision" -> new Found(true, twin.revision());
            case "_modified" -> new Found(true, twin.modified());
            case "_created" -> new Found(true, twin.created());
            case "definition" -> twin.definition() == null ? MISSING : new Found(true, twin.definition());
            default -> {
                TwinPath path = TwinPath.parse(property);
                yield TwinTree.exists(tree, path) ? new Found(true, TwinTree.get(tree, path)) : MISSING;
            }
        };
    }

    private static boolean compare(Rql.Compare c, Found found) {
        if (!found.present()) {
            return false; // Ditto: a thing without the property matches no comparison, ne included
        }
        Object actual = found.value();
        if (c.op() == Rql.Op.EQ) {
            return equal(c.property(), c.value(), actual);
        }
        if (c.op() == Rql.Op.NE) {
            return !equal(c.property(), c.value(), actual);
        }
        Object expected = expected(c.property(), c.value());
        int cmp;
        if (expected instanceof Number a && actual instanceof Number b) {
            cmp = Double.compare(b.doubleValue(), a.doubleValue());
        } else if (expected instanceof String a && actual instanceof String b) {
            cmp = b.compareTo(a);
        } else if (expected instanceof Instant a && actual instanceof Instant b) {
            cmp = b.compareTo(a);
        } else {
            return false;
        }
        return switch (c.op()) {
            case GT -> cmp > 0;
            case GE -> cmp >= 0;
            case LT -> cmp < 0;
            default -> cmp <= 0;
        };
    }

    /** A value as the property holds it: times of {@code _modified} and {@code _created} as instants. */
    private static Object expected(String property, Object value) {
        return RqlToMongo.isTime(property) && value instanceof String s ? RqlToMongo.time(property, s) : value;
    }

    private static boolean equal(String property, Object value, Object actual) {
        Object expected = expected(property, value);
        if (expected instanceof Number a && actual instanceof Number b) {
            return Double.compare(a.doubleValue(), b.doubleValue()) == 0;
        }
        return Objects.equals(expected, actual) && !(actual instanceof Map);
    }
}

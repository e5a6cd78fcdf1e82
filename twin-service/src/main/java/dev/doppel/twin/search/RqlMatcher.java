package dev.doppel.twin.search;

import dev.doppel.twin.model.Twin;
import dev.doppel.twin.model.TwinPath;
import dev.doppel.twin.model.TwinTree;
import java.util.Map;
import java.util.Objects;

/** Evaluates an RQL filter against one twin in memory, for live streams (search runs in MongoDB). */
public final class RqlMatcher {

    private RqlMatcher() {
    }

    public static boolean matches(Rql rql, Twin twin) {
        return switch (rql) {
            case Rql.Compare c -> compare(c, value(twin, c.property()));
            case Rql.In i -> i.values().stream().anyMatch(v -> equal(v, value(twin, i.property())));
            case Rql.Like l -> value(twin, l.property()) instanceof String s
                    && RqlToMongo.likeToRegex(l.pattern()).matcher(s).matches();
            case Rql.Exists e -> value(twin, e.property()) != null;
            case Rql.And a -> a.operands().stream().allMatch(o -> matches(o, twin));
            case Rql.Or o -> o.operands().stream().anyMatch(x -> matches(x, twin));
            case Rql.Not n -> !matches(n.operand(), twin);
        };
    }

    private static Object value(Twin twin, String property) {
        RqlToMongo.field(property); // same properties as search
        return switch (property) {
            case "thingId" -> twin.thingId().toString();
            case "_revision" -> twin.revision();
            case "_modified" -> twin.modified().toString();
            case "_created" -> twin.created().toString();
            case "definition" -> twin.definition();
            default -> TwinTree.get(TwinTree.of(twin), TwinPath.parse(property));
        };
    }

    private static boolean compare(Rql.Compare c, Object actual) {
        if (c.op() == Rql.Op.EQ) {
            return equal(c.value(), actual);
        }
        if (c.op() == Rql.Op.NE) {
            return !equal(c.value(), actual);
        }
        int cmp;
        if (c.value() instanceof Number a && actual instanceof Number b) {
            cmp = Double.compare(b.doubleValue(), a.doubleValue());
        } else if (c.value() instanceof String a && actual instanceof String b) {
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

    private static boolean equal(Object expected, Object actual) {
        if (expected instanceof Number a && actual instanceof Number b) {
            return Double.compare(a.doubleValue(), b.doubleValue()) == 0;
        }
        return Objects.equals(expected, actual) && !(actual instanceof Map);
    }
}

package dev.doppel.twin.model;

import dev.doppel.contracts.PropertyKey;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks reported values before they touch a stored twin: keys must be safe as MongoDB field names
 * and as path segments, nesting is bounded. Returns a normalised copy (numbers MongoDB can store).
 */
public final class ReportValidator {

    static final int MAX_DEPTH = 16;

    private ReportValidator() {
    }

    public static void checkKey(String key) {
        if (!PropertyKey.isValid(key)) {
            throw new InvalidReport("invalid-key", "invalid key '" + key + "': " + PropertyKey.RULE);
        }
    }

    public static Map<String, Object> normalise(Map<String, ?> values) {
        return normaliseMap(values, 1);
    }

    /** One value as a twin may hold it (a scalar, or maps and lists of them); {@link InvalidReport} if not. */
    public static Object normaliseValue(Object value) {
        return normaliseValue(value, 1);
    }

    private static Map<String, Object> normaliseMap(Map<String, ?> values, int depth) {
        if (depth > MAX_DEPTH) {
            throw new InvalidReport("too-deep", "values nest deeper than " + MAX_DEPTH + " levels");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : values.entrySet()) {
            checkKey(e.getKey());
            out.put(e.getKey(), normaliseValue(e.getValue(), depth));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object normaliseValue(Object v, int depth) {
        if (v instanceof Map<?, ?> m) {
            return normaliseMap((Map<String, ?>) m, depth + 1);
        }
        if (v instanceof List<?> list) {
            if (depth + 1 > MAX_DEPTH) {
                throw new InvalidReport("too-deep", "values nest deeper than " + MAX_DEPTH + " levels");
            }
            List<Object> out = new ArrayList<>(list.size());
            for (Object item : list) {
                out.add(normaliseValue(item, depth + 1));
            }
            return out;
        }
        if (v instanceof BigInteger || v instanceof BigDecimal) {
            return ((Number) v).doubleValue();
        }
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Integer || v instanceof Long
                || v instanceof Double) {
            return v;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new InvalidReport("invalid-value", "unsupported value of type " + v.getClass().getSimpleName());
    }
}

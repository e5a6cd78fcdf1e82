package dev.doppel.twin.search;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.ThingId;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.ReportValidator;
import dev.doppel.twin.search.Rql.SyntaxError;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Ditto's search options: {@code sort(+attributes/x,-_modified)}, {@code size(50)}, {@code cursor(...)},
 * and the deprecated {@code limit(offset,count)}. The cursor holds the sort values and id of the last
 * item of a page, so the next page starts right after it, whatever was written in between; an offset
 * skips that many (at most {@value #MAX_OFFSET}: the store still reads what it skips).
 */
public record SearchOptions(List<Sort> sort, int size, Cursor cursor, int offset) {

    public static final int DEFAULT_SIZE = 25;
    public static final int MAX_SIZE = 200;
    public static final int MAX_OFFSET = 10_000;

    public SearchOptions(List<Sort> sort, int size, Cursor cursor) {
        this(sort, size, cursor, 0);
    }
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longest cursor read back (base64 characters). */
    static final int MAX_CURSOR = 8192;

    public record Sort(String property, boolean ascending) {
    }

    public record Cursor(List<Object> values, String id) {

        public String encode() {
            try {
                return Base64.getUrlEncoder().withoutPadding().encodeToString(
                        JSON.writeValueAsBytes(Map.of("v", values, "id", id)));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * Reads a cursor back. It comes from the client, so it holds only what {@link #encode} can
         * write: a thing id, and sort values a twin can hold ({@link ReportValidator}: scalars, objects
         * and lists with valid property keys, bounded nesting). Its values become filter values
         * ({@code TwinSearch.after}), where an object with an operator key such as {@code $regex} or
         * {@code $where} would be run.
         */
        @SuppressWarnings("unchecked")
        static Cursor decode(String token, int position) {
            SyntaxError foreign = new SyntaxError("cursor is not one this service handed out", position);
            if (token.length() > MAX_CURSOR) {
                throw foreign;
            }
            try {
                Map<String, Object> m = JSON.readValue(Base64.getUrlDecoder().decode(token), Map.class);
                Object values = m.get("v");
                Object id = m.get("id");
                if (m.size() != 2 || !(values instanceof List<?> list) || !(id instanceof String thing)
                        || !ThingId.isValid(thing)) {
                    throw foreign;
                }
                return new Cursor((List<Object>) ReportValidator.normaliseValue(list), thing);
            } catch (java.io.IOException | IllegalArgumentException | ClassCastException | InvalidReport e) {
                throw foreign;
            }
        }
    }

    public static SearchOptions parse(String option) {
        List<Sort> sort = new ArrayList<>();
        int size = DEFAULT_SIZE;
        int offset = 0;
        boolean limited = false;
        Cursor cursor = null;
        if (option == null || option.isBlank()) {
            return new SearchOptions(List.of(new Sort("thingId", true)), size, null);
        }
        int pos = 0;
        for (String part : splitTopLevel(option)) {
            String p = part.trim();
            int open = p.indexOf('(');
            if (open < 0 || !p.endsWith(")")) {
                throw new SyntaxError("expected sort(...), size(...) or cursor(...)", pos);
            }
            String name = p.substring(0, open);
            String arg = p.substring(open + 1, p.length() - 1);
            switch (name) {
                case "sort" -> {
                    for (String s : arg.split(",")) {
                        s = s.trim();
                        if (s.length() < 2 || (s.charAt(0) != '+' && s.charAt(0) != '-')) {
                            throw new SyntaxError("sort takes +property or -property", pos + open + 1);
                        }
                        RqlToMongo.field(s.substring(1));
                        sort.add(new Sort(s.substring(1), s.charAt(0) == '+'));
                    }
                }
                case "size" -> {
                    try {
                        size = Integer.parseInt(arg.trim());
                    } catch (NumberFormatException e) {
                        throw new SyntaxError("size takes a number", pos + open + 1);
                    }
                    if (size < 1 || size > MAX_SIZE) {
                        throw new SyntaxError("size must be between 1 and " + MAX_SIZE, pos + open + 1);
                    }
                }
                case "cursor" -> cursor = Cursor.decode(arg.trim(), pos + open + 1);
                case "limit" -> {
                    String[] two = arg.split(",");
                    try {
                        offset = Integer.parseInt(two[0].trim());
                        size = two.length == 2 ? Integer.parseInt(two[1].trim()) : -1;
                    } catch (NumberFormatException e) {
                        throw new SyntaxError("limit takes an offset and a count: limit(0,25)", pos + open + 1);
                    }
                    if (two.length != 2 || offset < 0 || offset > MAX_OFFSET || size < 1 || size > MAX_SIZE) {
                        throw new SyntaxError("limit takes an offset from 0 to " + MAX_OFFSET + " and a count from 1 to "
                                + MAX_SIZE + ": limit(0,25)", pos + open + 1);
                    }
                    limited = true;
                }
                default -> throw new SyntaxError("unknown option '" + name + "'; known: sort, size, cursor, limit",
                        pos);
            }
            pos += part.length() + 1;
        }
        if (sort.stream().noneMatch(s -> s.property().equals("thingId"))) {
            sort.add(new Sort("thingId", true)); // a total order, so a cursor names exactly one place
        }
        if (cursor != null && cursor.values().size() != sort.size()) {
            throw new SyntaxError("cursor is not one this service handed out for this sort", pos);
        }
        if (cursor != null && limited) {
            throw new SyntaxError("limit(offset,count) and cursor(...) do not go together; use size(...) with a cursor",
                    pos);
        }
        return new SearchOptions(sort, size, cursor, offset);
    }

    private static List<String> splitTopLevel(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        out.add(s.substring(start));
        return out;
    }

}

package dev.doppel.twin.search;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.model.TwinPath;
import dev.doppel.twin.model.TwinTree;
import dev.doppel.twin.repository.TwinRepository;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bson.conversions.Bson;

/** Search over twins with an RQL filter, sorted, in pages that a cursor continues. */
@ApplicationScoped
public class TwinSearch {

    private final TwinRepository repository;

    public TwinSearch(TwinRepository repository) {
        this.repository = repository;
    }

    public record Page(List<Twin> items, String cursor) {
    }

    /**
     * @param tenants the tenants the caller may see, or null for all
     */
    public Uni<Page> search(String filter, SearchOptions options, Set<String> tenants) {
        List<Bson> parts = new ArrayList<>(scope(filter, tenants));
        if (options.cursor() != null) {
            parts.add(after(options.sort(), options.cursor()));
        }
        List<Bson> sorts = options.sort().stream()
                .map(s -> s.ascending() ? Sorts.ascending(RqlToMongo.field(s.property()))
                        : Sorts.descending(RqlToMongo.field(s.property())))
                .toList();
        return repository.search(and(parts), Sorts.orderBy(sorts), options.offset(), options.size() + 1).map(found -> {
            if (found.size() <= options.size()) {
                return new Page(found, null);
            }
            List<Twin> items = found.subList(0, options.size());
            return new Page(items, cursorAfter(items.get(items.size() - 1), options));
        });
    }

    /** The cursor that continues a search right after this twin (Relay gives one per edge). */
    public static String cursorAfter(Twin twin, SearchOptions options) {
        List<Object> values = options.sort().stream().map(s -> sortValue(twin, s.property())).toList();
        return new SearchOptions.Cursor(values, twin.thingId().toString()).encode();
    }

    public Uni<Long> count(String filter, Set<String> tenants) {
        return repository.count(and(scope(filter, tenants)));
    }

    private static List<Bson> scope(String filter, Set<String> tenants) {
        List<Bson> parts = new ArrayList<>();
        if (tenants != null) {
            parts.add(Filters.in("tenant", tenants));
        }
        if (filter != null && !filter.isBlank()) {
            parts.add(RqlToMongo.filter(RqlParser.parse(filter)));
        }
        return parts;
    }

    private static Bson and(List<Bson> parts) {
        return parts.isEmpty() ? Filters.empty() : parts.size() == 1 ? parts.get(0) : Filters.and(parts);
    }

    /** Everything strictly after the cursor's item in the sort order (lexicographic over the keys). */
    static Bson after(List<SearchOptions.Sort> sort, SearchOptions.Cursor cursor) {
        List<Bson> alternatives = new ArrayList<>();
        for (int i = 0; i < sort.size(); i++) {
            List<Bson> conditions = new ArrayList<>();
            for (int j = 0; j < i; j++) {
                conditions.add(Filters.eq(RqlToMongo.field(sort.get(j).property()), value(sort.get(j), cursor, j)));
            }
            SearchOptions.Sort s = sort.get(i);
            String field = RqlToMongo.field(s.property());
            Object v = value(s, cursor, i);
            if (v == null) {
                // Missing values sort first ascending and last descending.
                if (!s.ascending()) {
                    continue;
                }
                conditions.add(Filters.ne(field, null));
            } else if (s.ascending()) {
                conditions.add(Filters.gt(field, v));
            } else {
                conditions.add(Filters.or(Filters.lt(field, v), Filters.eq(field, null)));
            }
            alternatives.add(conditions.size() == 1 ? conditions.get(0) : Filters.and(conditions));
        }
        return alternatives.isEmpty() ? Filters.in("_id", List.of()) : Filters.or(alternatives);
    }

    private static Object value(SearchOptions.Sort s, SearchOptions.Cursor cursor, int i) {
        if (s.property().equals("thingId")) {
            return cursor.values().size() > i && cursor.values().get(i) != null ? cursor.values().get(i) : cursor.id();
        }
        Object v = cursor.values().size() > i ? cursor.values().get(i) : null;
        if (v instanceof String str && (s.property().equals("_modified") || s.property().equals("_created"))) {
            return Date.from(java.time.Instant.parse(str));
        }
        return v;
    }

    private static Object sortValue(Twin twin, String property) {
        return switch (property) {
            case "thingId" -> twin.thingId().toString();
            case "_modified" -> twin.modified().toString();
            case "_created" -> twin.created().toString();
            case "_revision" -> twin.revision();
            case "definition" -> twin.definition();
            default -> TwinTree.get(TwinTree.of(twin), TwinPath.parse(property));
        };
    }
}

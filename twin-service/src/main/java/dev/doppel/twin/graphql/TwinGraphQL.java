package dev.doppel.twin.graphql;

import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import dev.doppel.support.security.Roles;
import dev.doppel.twin.model.Feature;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.model.TwinPath;
import dev.doppel.twin.model.TwinTree;
import dev.doppel.twin.rest.TwinProblems;
import dev.doppel.twin.search.SearchOptions;
import dev.doppel.twin.search.TwinSearch;
import dev.doppel.twin.service.TwinEdits.Conditions;
import dev.doppel.twin.service.TwinEdits.Edit;
import dev.doppel.twin.service.TwinEdits;
import dev.doppel.twin.service.TwinHistory;
import dev.doppel.twin.service.TwinService;
import dev.doppel.twin.service.TwinWatch;
import io.smallrye.graphql.api.Subscription;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.eclipse.microprofile.graphql.DefaultValue;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.GraphQLApi;
import org.eclipse.microprofile.graphql.Mutation;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;
import org.eclipse.microprofile.graphql.Query;
import org.eclipse.microprofile.graphql.Source;
import org.jboss.logging.Logger;

/**
 * The twins as a graph, on the same services as the REST API, so both answer alike: the same tenant
 * scoping (another tenant's twin is null, as a missing one), the same RQL, the same write rules
 * (operators write desired properties; attributes are the admin's) and the same errors, whose
 * problem type is in each error's {@code extensions.problem}.
 */
@GraphQLApi
public class TwinGraphQL {

    private static final Logger LOG = Logger.getLogger(TwinGraphQL.class);

    private final TwinService twins;
    private final TwinEdits edits;
    private final TwinSearch search;
    private final TwinHistory history;
    private final TwinWatch watch;
    private final Caller caller;

    public TwinGraphQL(TwinService twins, TwinEdits edits, TwinSearch search, TwinHistory history, TwinWatch watch,
            Caller caller) {
        this.twins = twins;
        this.edits = edits;
        this.search = search;
        this.history = history;
        this.watch = watch;
        this.caller = caller;
    }

    // ---- queries

    @Query("twin")
    @Description("One twin by id; null if it does not exist or the caller may not read it")
    public Uni<TwinNode> twin(@NonNull @Name("id") String id) {
        return guarded(() -> {
            ThingId thingId = ProblemException.parseThingId(id);
            if (!caller.mayAccess(thingId.tenant())) {
                return Uni.createFrom().nullItem();
            }
            return twins.find(thingId).map(t -> t.map(TwinNode::new).orElse(null));
        });
    }

    @Query("twins")
    @Description("Twins matching an RQL filter (as /api/2/search/things), in pages: pass pageInfo.endCursor as after")
    public Uni<TwinConnection> twins(@Name("filter") String filter,
            @Description("Ditto's sort, e.g. +attributes/location,-_modified") @Name("sort") String sort,
            @DefaultValue("25") @Name("first") int first, @Name("after") String after) {
        return guarded(() -> {
            if (first < 1 || first > SearchOptions.MAX_SIZE) {
                throw invalid("invalid-argument", "first must be between 1 and " + SearchOptions.MAX_SIZE);
            }
            List<String> parts = new ArrayList<>();
            if (sort != null && !sort.isBlank()) {
                parts.add("sort(" + sort + ")");
            }
            parts.add("size(" + first + ")");
            if (after != null && !after.isBlank()) {
                parts.add("cursor(" + after + ")");
            }
            SearchOptions options = SearchOptions.parse(String.join(",", parts));
            Set<String> tenants = scope();
            return search.search(filter, options, tenants).map(page -> {
                List<TwinConnection.Edge> edges = page.items().stream()
                        .map(t -> new TwinConnection.Edge(TwinSearch.cursorAfter(t, options), new TwinNode(t)))
                        .toList();
                TwinConnection.PageInfo info = new TwinConnection.PageInfo(page.cursor() != null, false,
                        edges.isEmpty() ? null : edges.get(0).cursor(),
                        edges.isEmpty() ? null : edges.get(edges.size() - 1).cursor());
                return new TwinConnection(edges, info, filter, tenants);
            });
        });
    }

    @Description("How many twins match the filter, the caller's tenants only")
    public Uni<Long> totalCount(@Source TwinConnection connection) {
        return guarded(() -> search.count(connection.filter(), connection.tenants()));
    }

    @Query("twinAt")
    @Description("The whole twin as it was at a revision or a time, from its history; null if it did not exist then")
    public Uni<JsonObject> twinAt(@NonNull @Name("id") String id, @Name("revision") Long revision,
            @Description("ISO-8601, e.g. 2026-11-22T10:00:00Z") @Name("at") String at) {
        return guarded(() -> {
            ThingId thingId = ProblemException.parseThingId(id);
            if (revision == null && at == null) {
                throw invalid("invalid-argument", "give revision or at");
            }
            if (!caller.mayAccess(thingId.tenant())) {
                return Uni.createFrom().nullItem();
            }
            return history.asOf(thingId, revision, at == null ? null : time("at", at))
                    .map(t -> t.map(JsonValues::toJson).orElse(null));
        });
    }

    // ---- fields with arguments

    @Description("One feature by id, or null")
    public FeatureNode feature(@Source TwinNode twin, @NonNull @Name("id") String id) {
        Feature f = twin.twin().features().get(id);
        return f == null ? null : FeatureNode.of(id, f);
    }

    @Description("The value at a path below a feature's properties (or desiredProperties), typed; null if absent")
    public PropertyValue property(@Source TwinNode twin, @NonNull @Name("feature") String feature,
            @NonNull @Description("slash path below properties, e.g. temperature or position/lat") @Name("path") String path,
            @DefaultValue("false") @Name("desired") boolean desired) {
        Twin t = twin.twin();
        Feature f = t.features().get(feature);
        if (f == null) {
            return null;
        }
        String full = "features/" + feature + (desired ? "/desiredProperties/" : "/properties/") + path;
        TwinPath p = path(full);
        Map<String, Object> tree = TwinTree.of(t);
        if (!TwinTree.exists(tree, p)) {
            return null;
        }
        String key = path.split("/")[0];
        Instant time = desired ? f.desiredTimes().get(key) : f.propertyTimes().get(key);
        return PropertyValue.of(full, TwinTree.get(tree, p), time);
    }

    @Description("Values of one path over time, oldest first (all paths if none given)")
    public Uni<List<HistoryValue>> history(@Source TwinNode twin, @Name("path") String path,
            @Name("from") String from, @Name("to") String to, @DefaultValue("100") @Name("limit") int limit) {
        return guarded(() -> {
            if (path != null && !path.isEmpty()) {
                path(path);
            }
            if (limit < 1 || limit > 1000) {
                throw invalid("invalid-limit", "limit is 1 to 1000");
            }
            return history.values(twin.twin().thingId(), path, from == null ? null : time("from", from),
                    to == null ? null : time("to", to), limit)
                    .map(entries -> entries.stream()
                            .map(e -> new HistoryValue(e.path(), e.value(), e.revision(), e.time())).toList());
        });
    }

    @Description("A value's numeric history summarized per interval (count, min, max, avg): [from, to), by default "
            + "the last day in a hundred intervals; at most 1000 intervals. interval like 5m, 1h")
    public Uni<HistorySummary> historySummary(@Source TwinNode twin, @NonNull @Name("path") String path,
            @Name("from") String from, @Name("to") String to, @Name("interval") String interval) {
        return guarded(() -> {
            path(path);
            return history.summarize(twin.twin().thingId(), path, from == null ? null : time("from", from),
                    to == null ? null : time("to", to), interval).map(HistorySummary::of);
        });
    }

    // ---- mutations

    @Mutation("putAttributes")
    @Description("Replaces the twin's attributes (dt-admin). With expectedRevision, only if the twin is still at it")
    public Uni<TwinNode> putAttributes(@NonNull @Name("thingId") String thingId,
            @NonNull @Name("attributes") JsonObject attributes, @Name("expectedRevision") Long expectedRevision) {
        return write(thingId, "attributes", Edit.PUT, JsonValues.fromJson(attributes), expectedRevision, false);
    }

    @Mutation("putDesiredProperties")
    @Description("Replaces what a feature should reach (dt-operator or dt-admin); the device gets the delta")
    public Uni<TwinNode> putDesiredProperties(@NonNull @Name("thingId") String thingId,
            @NonNull @Name("feature") String feature, @NonNull @Name("properties") JsonObject properties,
            @Name("expectedRevision") Long expectedRevision) {
        return write(thingId, "features/" + feature + "/desiredProperties", Edit.PUT,
                JsonValues.fromJson(properties), expectedRevision, true);
    }

    @Mutation("mergeDesiredProperties")
    @Description("Merges into what a feature should reach (RFC 7396: null removes a key); dt-operator or dt-admin")
    public Uni<TwinNode> mergeDesiredProperties(@NonNull @Name("thingId") String thingId,
            @NonNull @Name("feature") String feature, @NonNull @Name("properties") JsonObject properties,
            @Name("expectedRevision") Long expectedRevision) {
        return write(thingId, "features/" + feature + "/desiredProperties", Edit.PATCH,
                JsonValues.fromJson(properties), expectedRevision, true);
    }

    private Uni<TwinNode> write(String thingId, String path, Edit edit, Object value, Long expectedRevision,
            boolean desired) {
        return guarded(() -> {
            if (desired) {
                caller.require("writing desired properties", Roles.STEER);
            } else {
                caller.require("changing attributes (operators write desired properties)", List.of(Roles.ADMIN));
            }
            ThingId id = ProblemException.parseThingId(thingId);
            if (!caller.mayAccess(id.tenant())) {
                throw new TwinEdits.NotFound("The thing with id '" + id
                        + "' could not be found or the requester may not read it.");
            }
            Conditions conditions = new Conditions(expectedRevision == null ? null : "\"rev:" + expectedRevision + "\"",
                    null);
            return edits.edit(id, path(path), edit, value, conditions).map(w -> new TwinNode(w.twin()));
        });
    }

    // ---- subscriptions

    @Subscription("twinChanged")
    @Description("Every change of a twin the caller may read, from any replica; optionally only some ids or those matching an RQL filter")
    public Multi<TwinChange> twinChanged(@Name("filter") String filter, @Name("ids") List<String> ids) {
        TwinWatch.Scope scope;
        try {
            requireRead();
            // Fixed now: the subscription outlives the request that opened it.
            scope = TwinWatch.Scope.of(scope(), ids == null ? null : Set.copyOf(ids), filter);
        } catch (RuntimeException e) {
            return Multi.createFrom().failure(problem(e));
        }
        return caller.untilTokenExpires(watch.watch(scope)).map(TwinChange::of);
    }

    // ---- helpers

    /** Tenants the caller may read; null for every tenant (admins). */
    private Set<String> scope() {
        return caller.isAdmin() ? null : caller.tenants();
    }

    private static TwinPath path(String path) {
        return TwinPath.parse(path); // InvalidReport becomes a 400 problem in guarded
    }

    private static Instant time(String name, String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw invalid("invalid-time", name + " takes an ISO-8601 time like 2026-11-22T10:00:00Z");
        }
    }

    private static ProblemException invalid(String slug, String detail) {
        return new ProblemException(Problem.of(slug, "Invalid argument", 400, detail, null));
    }

    /**
     * Runs an operation so that every known error, thrown or failed, reaches the client as its problem.
     * Every operation reads twins, so this is where the read role is checked.
     */
    private <T> Uni<T> guarded(Supplier<Uni<? extends T>> operation) {
        return Uni.createFrom().<T>deferred(() -> {
            requireRead();
            return operation.get();
        }).onFailure().transform(TwinGraphQL::problem);
    }

    private void requireRead() {
        caller.require("reading twins", Roles.READ);
    }

    private static Throwable problem(Throwable e) {
        Problem p = TwinProblems.of(e);
        if (p == null) {
            // Not the client's doing: logged here, the client reads only "System error".
            LOG.error("GraphQL operation failed", e);
            return e;
        }
        return e instanceof ProblemException ? e : new ProblemException(p);
    }
}

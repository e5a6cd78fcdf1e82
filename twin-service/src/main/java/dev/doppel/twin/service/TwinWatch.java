package dev.doppel.twin.service;

import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.twin.messaging.LiveChanges;
import dev.doppel.twin.search.Rql;
import dev.doppel.twin.search.RqlMatcher;
import dev.doppel.twin.search.RqlParser;
import dev.doppel.twin.search.RqlToMongo;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Set;

/**
 * Live changes for one subscriber, whatever the transport (SSE, GraphQL subscription): only the
 * subscriber's tenants, optionally only some things and only things that match an RQL filter.
 */
@ApplicationScoped
public class TwinWatch {

    private final LiveChanges live;
    private final TwinService twins;

    public TwinWatch(LiveChanges live, TwinService twins) {
        this.live = live;
        this.twins = twins;
    }

    /** What a subscriber asked for, fixed when it subscribes (the stream outlives the request). */
    public record Scope(Set<String> tenants, Set<String> ids, Rql filter) {

        /** @param tenants the tenants the subscriber may read, or null for every tenant (admins) */
        public static Scope of(Set<String> tenants, Set<String> ids, String filter) {
            return new Scope(tenants, ids == null || ids.isEmpty() ? null : Set.copyOf(ids), parseFilter(filter));
        }
    }

    /**
     * Parses a live filter with the rules of search, so one filter works in both.
     *
     * @throws Rql.SyntaxError or {@link dev.doppel.twin.model.InvalidReport} for a bad filter
     */
    public static Rql parseFilter(String filter) {
        if (filter == null || filter.isBlank()) {
            return null;
        }
        Rql rql = RqlParser.parse(filter);
        RqlToMongo.filter(rql);
        return rql;
    }

    public Multi<TwinChanged> watch(Scope scope) {
        return live.stream()
                .filter(c -> ThingId.isValid(c.thingId()))
                .filter(c -> scope.tenants() == null || scope.tenants().contains(ThingId.parse(c.thingId()).tenant()))
                .filter(c -> scope.ids() == null || scope.ids().contains(c.thingId()))
                .onItem().transformToUniAndConcatenate(c -> scope.filter() == null ? Uni.createFrom().item(c)
                        : twins.find(ThingId.parse(c.thingId()))
                                .map(t -> t.isPresent() && RqlMatcher.matches(scope.filter(), t.get()) ? c : null));
    }
}

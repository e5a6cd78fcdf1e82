package dev.doppel.twin.graphql;

import java.util.List;
import java.util.Set;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.Ignore;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

/** A page of search results as a Relay connection; totalCount is counted only when asked for. */
@Name("TwinConnection")
public class TwinConnection {

    @Name("TwinEdge")
    public record Edge(@NonNull String cursor, @NonNull TwinNode node) {
    }

    @Name("PageInfo")
    public record PageInfo(boolean hasNextPage, boolean hasPreviousPage, String startCursor, String endCursor) {
    }

    private final List<Edge> edges;
    private final PageInfo pageInfo;
    @Ignore
    private final String filter;
    @Ignore
    private final Set<String> tenants;

    TwinConnection(List<Edge> edges, PageInfo pageInfo, String filter, Set<String> tenants) {
        this.edges = edges;
        this.pageInfo = pageInfo;
        this.filter = filter;
        this.tenants = tenants;
    }

    @NonNull
    public List<@NonNull Edge> getEdges() {
        return edges;
    }

    @NonNull
    @Description("hasPreviousPage is always false: paging goes forward with after")
    public PageInfo getPageInfo() {
        return pageInfo;
    }

    String filter() {
        return filter;
    }

    Set<String> tenants() {
        return tenants;
    }
}

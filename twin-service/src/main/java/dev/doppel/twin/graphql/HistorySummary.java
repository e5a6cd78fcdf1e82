package dev.doppel.twin.graphql;

import dev.doppel.twin.service.TwinHistory;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

@Name("HistorySummary")
@Description("A value's history in intervals: numeric values only, intervals without values left out")
public record HistorySummary(@NonNull String path, @NonNull Instant from, @NonNull Instant to,
        @Description("the length of each interval, in ms") long intervalMs, @NonNull List<@NonNull Bucket> buckets) {

    @Name("HistoryBucket")
    public record Bucket(@NonNull Instant start, long count, double min, double max, double avg) {
    }

    static HistorySummary of(TwinHistory.Summary s) {
        return new HistorySummary(s.path(), s.from(), s.to(), s.interval().toMillis(), s.buckets().stream()
                .map(b -> new Bucket(b.start(), b.count(), b.min(), b.max(), b.avg())).toList());
    }
}

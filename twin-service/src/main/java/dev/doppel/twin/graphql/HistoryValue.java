package dev.doppel.twin.graphql;

import java.time.Instant;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

@Name("HistoryValue")
public record HistoryValue(@NonNull String path, Object value, long revision, @NonNull Instant time) {
}

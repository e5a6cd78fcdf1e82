package dev.doppel.twin.graphql;

import java.time.Instant;
import org.eclipse.microprofile.graphql.Description;
import org.eclipse.microprofile.graphql.Name;
import org.eclipse.microprofile.graphql.NonNull;

@Name("PropertyValue")
@Description("One value of a twin at a path, with typed accessors: the one that fits the value is set, the others are null.")
public record PropertyValue(
        @NonNull String path,
        @Description("the value as JSON, whatever its type") Object value,
        Double number,
        String text,
        Boolean flag,
        @Description("when the device measured it (reported values) or when it was written (desired values)") Instant time) {

    static PropertyValue of(String path, Object value, Instant time) {
        return new PropertyValue(path, value, value instanceof Number n ? n.doubleValue() : null,
                value instanceof String s ? s : null, value instanceof Boolean b ? b : null, time);
    }
}

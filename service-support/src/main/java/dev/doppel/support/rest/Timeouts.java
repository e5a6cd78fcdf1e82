package dev.doppel.support.rest;

import dev.doppel.contracts.Problem;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ditto's {@code timeout} parameter: a number of seconds, or a number with {@code ms}, {@code s} or
 * {@code m}; the same form, with {@code h} and {@code d} too, for a command's {@code ttl} and the
 * interval of a history's summary.
 */
public final class Timeouts {

    private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)?");

    private Timeouts() {
    }

    public static Duration parse(String value, Duration fallback, Duration max) {
        return parse("timeout", value, fallback, max);
    }

    public static Duration parse(String name, String value, Duration fallback, Duration max) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        Matcher m = FORMAT.matcher(value.trim());
        if (!m.matches()) {
            throw invalid(name, name + " '" + value + "' is not a duration like 10s, 500ms or 1m");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.compareTo(max) > 0) {
            throw invalid(name, name + " " + value + " exceeds the maximum of " + max.toSeconds() + "s");
        }
        return d;
    }

    private static ProblemException invalid(String name, String detail) {
        return new ProblemException(Problem.of("invalid-" + name, "Invalid " + name, 400, detail, null));
    }
}

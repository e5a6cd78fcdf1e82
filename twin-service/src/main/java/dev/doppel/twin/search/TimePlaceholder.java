package dev.doppel.twin.search;

import dev.doppel.twin.search.Rql.SyntaxError;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ditto's time placeholders in RQL values: {@code time:now} (the time as ISO-8601) and
 * {@code time:now_epoch_millis}, each optionally moved ({@code time:now-1h}, {@code +7d}) and
 * truncated ({@code time:now[d]}, {@code time:now-1d[d]}), in units {@code ms s m h d w mo y}, in UTC.
 * Resolved once, when the filter is read (a live stream's filter keeps the time it was opened at).
 */
final class TimePlaceholder {

    private static final Pattern FORM = Pattern.compile(
            "(now|now_epoch_millis)(?:([+-])(\\d{1,9})(ms|mo|s|m|h|d|w|y))?(?:\\[(ms|mo|s|m|h|d|w|y)])?");

    private TimePlaceholder() {
    }

    static Object resolve(String prefix, String name, Clock clock) {
        Matcher m = FORM.matcher(name == null ? "" : name);
        if (!"time".equals(prefix) || !m.matches()) {
            throw new SyntaxError("unknown placeholder " + prefix + ":" + name + "; known: time:now, "
                    + "time:now_epoch_millis, moved (time:now-1h) and truncated (time:now[d])", 0);
        }
        ZonedDateTime t = ZonedDateTime.now(clock).withZoneSameInstant(ZoneOffset.UTC);
        if (m.group(2) != null) {
            long amount = Long.parseLong(m.group(3)) * ("-".equals(m.group(2)) ? -1 : 1);
            t = plus(t, amount, m.group(4));
        }
        if (m.group(5) != null) {
            t = truncate(t, m.group(5));
        }
        return "now".equals(m.group(1)) ? t.toInstant().toString() : t.toInstant().toEpochMilli();
    }

    private static ZonedDateTime plus(ZonedDateTime t, long amount, String unit) {
        return switch (unit) {
            case "ms" -> t.plus(amount, ChronoUnit.MILLIS);
            case "s" -> t.plusSeconds(amount);
            case "m" -> t.plusMinutes(amount);
            case "h" -> t.plusHours(amount);
            case "d" -> t.plusDays(amount);
            case "w" -> t.plusWeeks(amount);
            case "mo" -> t.plusMonths(amount);
            default -> t.plusYears(amount);
        };
    }

    private static ZonedDateTime truncate(ZonedDateTime t, String unit) {
        return switch (unit) {
            case "ms" -> t.truncatedTo(ChronoUnit.MILLIS);
            case "s" -> t.truncatedTo(ChronoUnit.SECONDS);
            case "m" -> t.truncatedTo(ChronoUnit.MINUTES);
            case "h" -> t.truncatedTo(ChronoUnit.HOURS);
            case "d" -> t.truncatedTo(ChronoUnit.DAYS);
            case "w" -> t.truncatedTo(ChronoUnit.DAYS).with(TemporalAdjusters.previousOrSame(java.time.DayOfWeek.MONDAY));
            case "mo" -> t.truncatedTo(ChronoUnit.DAYS).withDayOfMonth(1);
            default -> t.truncatedTo(ChronoUnit.DAYS).withDayOfYear(1);
        };
    }
}

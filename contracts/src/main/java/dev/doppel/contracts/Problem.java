package dev.doppel.contracts;

import java.util.Map;

/**
 * An RFC 9457 problem detail, the body of every error response ({@code application/problem+json}).
 * {@code type} is stable per kind of error, so clients can branch on it.
 *
 * <p>It also carries Eclipse Ditto's error members ({@code error}, {@code message},
 * {@code description}; {@code status} is common to both), so that Ditto's clients, which the twin
 * API serves, show it as they show Ditto's own errors.
 */
public record Problem(String type, String title, int status, String detail, String instance) {

    public static final String MEDIA_TYPE = "application/problem+json";
    public static final String TYPE_BASE = "https://doppel.dev/problems/";

    /** Ditto's error code for each kind that Ditto has too; the others are {@code doppel:<kind>}. */
    private static final Map<String, String> DITTO_ERRORS = Map.ofEntries(
            Map.entry("thing-not-found", "things:thing.notfound"),
            Map.entry("feature-not-found", "things:feature.notfound"),
            Map.entry("precondition-failed", "things:precondition.failed"),
            Map.entry("too-large", "things:thing.toolarge"),
            Map.entry("forbidden", "things:thing.notmodifiable"),
            Map.entry("invalid-json", "json.invalid"),
            Map.entry("invalid-filter", "rql.expression.invalid"));

    public static Problem of(String slug, String title, int status, String detail, String instance) {
        return new Problem(TYPE_BASE + slug, title, status, detail, instance);
    }

    /** The kind of problem: {@code type} without its base ({@code thing-not-found}). */
    private String kind() {
        return type != null && type.startsWith(TYPE_BASE) ? type.substring(TYPE_BASE.length()) : String.valueOf(type);
    }

    /** Ditto's {@code error}: its code for this kind of error ({@code things:thing.notfound}). */
    public String getError() {
        return DITTO_ERRORS.getOrDefault(kind(), "doppel:" + kind());
    }

    /** Ditto's {@code message}: what went wrong in this case (the detail, else the title). */
    public String getMessage() {
        return detail != null ? detail : title;
    }

    /** Ditto's {@code description}: what kind of error it is (the title). */
    public String getDescription() {
        return title;
    }
}

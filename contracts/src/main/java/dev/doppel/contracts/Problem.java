package dev.doppel.contracts;

/**
 * An RFC 9457 problem detail, the body of every error response ({@code application/problem+json}).
 * {@code type} is stable per kind of error, so clients can branch on it.
 */
public record Problem(String type, String title, int status, String detail, String instance) {

    public static final String MEDIA_TYPE = "application/problem+json";
    public static final String TYPE_BASE = "https://doppel.dev/problems/";

    public static Problem of(String slug, String title, int status, String detail, String instance) {
        return new Problem(TYPE_BASE + slug, title, status, detail, instance);
    }
}

package dev.doppel.contracts;

import java.util.regex.Pattern;

/**
 * What a feature, attribute or property name may be, on the wire and in storage alike: safe as a
 * MongoDB field name and as a path segment (no '.', '/', '$' or spaces). Connectivity checks device
 * payloads with it and twin-service checks every write, so the two cannot disagree.
 */
public final class PropertyKey {

    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_\\-@~+,;=!()*'][A-Za-z0-9_\\-@~+,;=!()*':]{0,255}");

    public static final String RULE = "letters, digits and -_@~+,;=!()*': only, no '.', '/', '$' or spaces";

    private PropertyKey() {
    }

    public static boolean isValid(String key) {
        return key != null && KEY.matcher(key).matches();
    }
}

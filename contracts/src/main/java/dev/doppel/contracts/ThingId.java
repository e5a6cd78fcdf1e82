package dev.doppel.contracts;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The id of a twin: {@code {tenant}:{deviceId}}, Ditto's {@code namespace:name} form.
 * Both parts are restricted to characters that are safe in URLs, MQTT topics and MongoDB keys.
 */
public record ThingId(String tenant, String deviceId) {

    private static final Pattern TENANT = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,63}");
    private static final Pattern DEVICE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.~-]{0,127}");

    public ThingId {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(deviceId, "deviceId");
        if (!TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("invalid tenant '" + tenant
                    + "': a letter, then up to 63 letters, digits, '_', '.' or '-'");
        }
        if (!DEVICE.matcher(deviceId).matches()) {
            throw new IllegalArgumentException("invalid device id '" + deviceId
                    + "': a letter or digit, then up to 127 letters, digits, '_', '.', '~' or '-'");
        }
    }

    public static ThingId of(String tenant, String deviceId) {
        return new ThingId(tenant, deviceId);
    }

    /** Parses {@code tenant:deviceId}; throws {@link IllegalArgumentException} with a readable message. */
    public static ThingId parse(String value) {
        if (value == null) {
            throw new IllegalArgumentException("thing id is missing");
        }
        int colon = value.indexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException("invalid thing id '" + value + "': expected '{tenant}:{deviceId}'");
        }
        return new ThingId(value.substring(0, colon), value.substring(colon + 1));
    }

    /** Whether this can be a tenant's name (a letter, then up to 63 letters, digits, '_', '.' or '-'). */
    public static boolean isTenant(String tenant) {
        return tenant != null && TENANT.matcher(tenant).matches();
    }

    public static boolean isValid(String value) {
        try {
            parse(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return tenant + ":" + deviceId;
    }
}

package dev.doppel.twin.model;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A feature of a twin: reported properties with their source times, desired properties with the
 * time each was written, and an optional definition (Ditto's list of {@code ns:name:version}).
 */
public final class Feature {

    private final java.util.List<String> definition;
    private final Map<String, Object> properties;
    private final Map<String, Object> desiredProperties;
    private final Map<String, Instant> propertyTimes;
    private final Map<String, Instant> desiredTimes;

    public Feature(java.util.List<String> definition, Map<String, Object> properties,
            Map<String, Object> desiredProperties, Map<String, Instant> propertyTimes,
            Map<String, Instant> desiredTimes) {
        this.definition = definition == null ? null : java.util.List.copyOf(definition);
        this.properties = new LinkedHashMap<>(properties);
        this.desiredProperties = new LinkedHashMap<>(desiredProperties);
        this.propertyTimes = new LinkedHashMap<>(propertyTimes);
        this.desiredTimes = new LinkedHashMap<>(desiredTimes);
    }

    public static Feature empty() {
        return new Feature(null, Map.of(), Map.of(), Map.of(), Map.of());
    }

    public java.util.List<String> definition() {
        return definition;
    }

    public Map<String, Instant> desiredTimes() {
        return desiredTimes;
    }

    /** Takes a reported value if it is newer than the stored one; says whether it did. */
    boolean report(String key, Object value, Instant sourceTime) {
        Instant stored = propertyTimes.get(key);
        if (stored != null && !sourceTime.isAfter(stored)) {
            return false;
        }
        properties.put(key, value);
        propertyTimes.put(key, sourceTime);
        return true;
    }

    public Map<String, Object> properties() {
        return properties;
    }

    public Map<String, Object> desiredProperties() {
        return desiredProperties;
    }

    /** Desired values that differ from the reported ones; a reported value equal to the desired one drops out. */
    public Map<String, Object> delta() {
        Map<String, Object> open = new java.util.LinkedHashMap<>();
        desiredProperties.forEach((k, v) -> {
            if (!java.util.Objects.equals(v, properties.get(k))) {
                open.put(k, v);
            }
        });
        return open;
    }

    public Map<String, Instant> propertyTimes() {
        return propertyTimes;
    }
}

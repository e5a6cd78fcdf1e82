package dev.doppel.twin.model;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** A feature of a twin: reported properties with their source times, and desired properties. */
public final class Feature {

    private final Map<String, Object> properties;
    private final Map<String, Object> desiredProperties;
    private final Map<String, Instant> propertyTimes;

    public Feature(Map<String, Object> properties, Map<String, Object> desiredProperties,
            Map<String, Instant> propertyTimes) {
        this.properties = new LinkedHashMap<>(properties);
        this.desiredProperties = new LinkedHashMap<>(desiredProperties);
        this.propertyTimes = new LinkedHashMap<>(propertyTimes);
    }

    public static Feature empty() {
        return new Feature(Map.of(), Map.of(), Map.of());
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

    public Map<String, Instant> propertyTimes() {
        return propertyTimes;
    }
}

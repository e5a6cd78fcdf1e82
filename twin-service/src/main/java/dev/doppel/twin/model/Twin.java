package dev.doppel.twin.model;

import dev.doppel.contracts.ThingId;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A digital twin: Ditto's thing with attributes and features, plus the source time of every
 * reported value so that an older report never overwrites a newer one.
 */
public final class Twin {

    private final ThingId thingId;
    private final String definition;
    private final Map<String, Object> attributes;
    private final Map<String, Feature> features;
    /** Source time of each top-level attribute. */
    private final Map<String, Instant> attributeTimes;
    private long revision;
    private final Instant created;
    private Instant modified;

    public Twin(ThingId thingId, String definition, Map<String, Object> attributes, Map<String, Feature> features,
            Map<String, Instant> attributeTimes, long revision, Instant created, Instant modified) {
        this.thingId = thingId;
        this.definition = definition;
        this.attributes = new LinkedHashMap<>(attributes);
        this.features = new LinkedHashMap<>(features);
        this.attributeTimes = new LinkedHashMap<>(attributeTimes);
        this.revision = revision;
        this.created = created;
        this.modified = modified;
    }

    /** A twin that does not exist yet; its first write gives it revision 1. */
    public static Twin empty(ThingId thingId, Instant now) {
        return new Twin(thingId, null, Map.of(), Map.of(), Map.of(), 0, now, now);
    }

    /**
     * Applies reported values. Each top-level property (or attribute) is taken only if its source time
     * is later than the one stored, so redelivered and reordered reports change nothing.
     *
     * @return the changed leaves by slash path; empty if nothing changed (then the revision stays)
     */
    public Map<String, Object> applyReported(Map<String, Map<String, Object>> reportedFeatures,
            Map<String, Object> reportedAttributes, Instant sourceTime, Instant now) {
        Map<String, Object> changes = new LinkedHashMap<>();
        if (reportedAttributes != null) {
            reportedAttributes.forEach((key, value) -> {
                Instant stored = attributeTimes.get(key);
                if (stored == null || sourceTime.isAfter(stored)) {
                    attributes.put(key, value);
                    attributeTimes.put(key, sourceTime);
                    changes.put("attributes/" + key, value);
                }
            });
        }
        if (reportedFeatures != null) {
            reportedFeatures.forEach((featureId, properties) -> {
                boolean isNew = !features.containsKey(featureId);
                Feature feature = features.computeIfAbsent(featureId, id -> Feature.empty());
                if (isNew && properties.isEmpty()) {
                    changes.put("features/" + featureId, Map.of());
                }
                properties.forEach((key, value) -> {
                    if (feature.report(key, value, sourceTime)) {
                        changes.put("features/" + featureId + "/properties/" + key, value);
                    }
                });
            });
        }
        if (!changes.isEmpty()) {
            revision++;
            modified = now;
        }
        return changes;
    }

    public ThingId thingId() {
        return thingId;
    }

    public String definition() {
        return definition;
    }

    /**
     * Desired values that differ from the reported ones, by feature: what the device still has to do.
     * A reported value equal to the desired one drops out.
     */
    public Map<String, Object> delta() {
        Map<String, Object> delta = new LinkedHashMap<>();
        features.forEach((id, f) -> {
            Map<String, Object> open = f.delta();
            if (!open.isEmpty()) {
                delta.put(id, open);
            }
        });
        return delta;
    }

    public Map<String, Object> attributes() {
        return attributes;
    }

    public Map<String, Feature> features() {
        return features;
    }

    public Map<String, Instant> attributeTimes() {
        return attributeTimes;
    }

    public long revision() {
        return revision;
    }

    public Instant created() {
        return created;
    }

    public Instant modified() {
        return modified;
    }
}

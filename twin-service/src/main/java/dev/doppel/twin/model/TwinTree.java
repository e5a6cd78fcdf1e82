package dev.doppel.twin.model;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A twin as a tree of plain maps in the shape of Ditto's API, for the REST operations that address
 * any part of it (GET, PUT, merge PATCH, DELETE by path), and back into a {@link Twin} that keeps
 * the time of every value that did not change.
 */
public final class TwinTree {

    private static final Set<String> THING_KEYS = Set.of("thingId", "definition", "attributes", "features");
    /**
     * Members a thing is read with and that a client may send back unchanged (a Ditto tool's
     * read-modify-write), though nobody writes them: ignored in a written thing.
     */
    private static final Set<String> READ_ONLY = Set.of("policyId", "_revision", "_created", "_modified");
    private static final Set<String> FEATURE_KEYS = Set.of("definition", "properties", "desiredProperties");

    private TwinTree() {
    }

    public static Map<String, Object> of(Twin twin) {
        Map<String, Object> features = new LinkedHashMap<>();
        twin.features().forEach((id, f) -> {
            Map<String, Object> feature = new LinkedHashMap<>();
            if (f.definition() != null) {
                feature.put("definition", new ArrayList<>(f.definition()));
            }
            feature.put("properties", copy(f.properties()));
            feature.put("desiredProperties", copy(f.desiredProperties()));
            features.put(id, feature);
        });
        Map<String, Object> tree = new LinkedHashMap<>();
        if (twin.definition() != null) {
            tree.put("definition", twin.definition());
        }
        tree.put("attributes", copy(twin.attributes()));
        tree.put("features", features);
        return tree;
    }

    /** The value at {@code path}, or null if there is none. */
    public static Object get(Map<String, Object> tree, TwinPath path) {
        Object node = tree;
        for (String s : path.segments()) {
            if (!(node instanceof Map<?, ?> m) || !m.containsKey(s)) {
                return null;
            }
            node = m.get(s);
        }
        return node;
    }

    public static boolean exists(Map<String, Object> tree, TwinPath path) {
        return path.segments().isEmpty() || get(tree, path.parent()) instanceof Map<?, ?> m
                && m.containsKey(path.segments().get(path.segments().size() - 1));
    }

    /**
     * Puts {@code value} at {@code path}. Inside attributes and properties, missing intermediate objects
     * are created (as Ditto does); a feature must exist before its parts can be written.
     */
    @SuppressWarnings("unchecked")
    public static void put(Map<String, Object> tree, TwinPath path, Object value) {
        List<String> s = path.segments();
        if (s.isEmpty()) {
            Map<String, Object> replacement = (Map<String, Object>) value;
            tree.clear();
            tree.putAll(replacement);
            tree.remove("thingId");
            dropReadOnly(tree);
            tree.putIfAbsent("attributes", new LinkedHashMap<>());
            tree.putIfAbsent("features", new LinkedHashMap<>());
            return;
        }
        if (s.size() >= 3 && "features".equals(s.get(0))
                && !(get(tree, new TwinPath(s.subList(0, 2))) instanceof Map)) {
            throw new InvalidReport("feature-not-found", "feature '" + s.get(1) + "' does not exist");
        }
        Map<String, Object> node = tree;
        for (int i = 0; i < s.size() - 1; i++) {
            Object next = node.get(s.get(i));
            if (!(next instanceof Map)) {
                next = new LinkedHashMap<String, Object>();
                node.put(s.get(i), next);
            }
            node = (Map<String, Object>) next;
        }
        node.put(s.get(s.size() - 1), value);
    }

    /** Removes the value at {@code path}; false if there was none. */
    public static boolean delete(Map<String, Object> tree, TwinPath path) {
        if (!exists(tree, path)) {
            return false;
        }
        Object parent = get(tree, path.parent());
        ((Map<?, ?>) parent).remove(path.segments().get(path.segments().size() - 1));
        return true;
    }

    /**
     * Drops what a thing is read with but nobody writes ({@link #READ_ONLY}). {@code policyId} names
     * Ditto's access policy; here access is Keycloak's (roles and tenants), so every thing reads with
     * its own id as policy id, and one sent is not kept; it must still be a string.
     */
    private static void dropReadOnly(Map<String, Object> tree) {
        Object policyId = tree.get("policyId");
        if (policyId != null && !(policyId instanceof String)) {
            throw new InvalidReport("invalid-twin", "policyId must be a string (it is not kept: access is "
                    + "Keycloak's, and every thing reads with its own id as policyId)");
        }
        tree.keySet().removeAll(READ_ONLY);
    }

    /** RFC 7396 JSON merge patch: null removes a member, objects merge, everything else replaces. */
    @SuppressWarnings("unchecked")
    public static Object mergePatch(Object target, Object patch) {
        if (!(patch instanceof Map<?, ?> p)) {
            return patch;
        }
        Map<String, Object> result = target instanceof Map<?, ?> t ? copy((Map<String, Object>) t)
                : new LinkedHashMap<>();
        p.forEach((k, v) -> {
            if (v == null) {
                result.remove(k);
            } else {
                result.put((String) k, mergePatch(result.get(k), v));
            }
        });
        return result;
    }

    /**
     * Checks the shape of an edited tree and turns it into the next revision of {@code before}. A value
     * that did not change keeps its time; a new or changed one gets {@code now}.
     */
    @SuppressWarnings("unchecked")
    public static Twin toTwin(Map<String, Object> tree, Twin before, Instant now) {
        if (!java.util.Collections.disjoint(tree.keySet(), READ_ONLY)) {
            tree = new LinkedHashMap<>(tree);
            dropReadOnly(tree);
        }
        for (String key : tree.keySet()) {
            if (!THING_KEYS.contains(key)) {
                throw new InvalidReport("invalid-twin", "a thing has no member '" + key
                        + "' (allowed: definition, attributes, features)");
            }
        }
        Object definition = tree.get("definition");
        if (definition != null && !(definition instanceof String)) {
            throw new InvalidReport("invalid-twin", "definition must be a string like 'ns:name:version'");
        }
        Map<String, Object> attributes = object(tree.get("attributes"), "attributes");
        Map<String, Object> features = object(tree.get("features"), "features");
        Map<String, Feature> outFeatures = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : features.entrySet()) {
            ReportValidator.checkKey(e.getKey());
            Map<String, Object> f = object(e.getValue(), "feature '" + e.getKey() + "'");
            for (String key : f.keySet()) {
                if (!FEATURE_KEYS.contains(key)) {
                    throw new InvalidReport("invalid-twin", "a feature has no member '" + key
                            + "' (allowed: definition, properties, desiredProperties)");
                }
            }
            List<String> featureDefinition = null;
            if (f.get("definition") != null) {
                if (!(f.get("definition") instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
                    throw new InvalidReport("invalid-twin", "a feature definition is a list of strings");
                }
                featureDefinition = (List<String>) f.get("definition");
            }
            Map<String, Object> props = ReportValidator.normalise(object(f.get("properties"), "properties"));
            Map<String, Object> desired = ReportValidator.normalise(
                    object(f.get("desiredProperties"), "desiredProperties"));
            Feature old = before.features().get(e.getKey());
            outFeatures.put(e.getKey(), new Feature(featureDefinition, props, desired,
                    times(props, old == null ? Map.of() : old.properties(), old == null ? Map.of() : old.propertyTimes(), now),
                    times(desired, old == null ? Map.of() : old.desiredProperties(),
                            old == null ? Map.of() : old.desiredTimes(), now)));
        }
        Map<String, Object> attrs = ReportValidator.normalise(attributes);
        return new Twin(before.thingId(), (String) definition, attrs, outFeatures,
                times(attrs, before.attributes(), before.attributeTimes(), now), before.revision() + 1,
                before.revision() == 0 ? now : before.created(), now);
    }

    private static Map<String, Instant> times(Map<String, Object> now, Map<String, Object> before,
            Map<String, Instant> beforeTimes, Instant at) {
        Map<String, Instant> out = new LinkedHashMap<>();
        now.forEach((k, v) -> out.put(k, beforeTimes.containsKey(k) && Objects.equals(v, before.get(k))
                ? beforeTimes.get(k) : at));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value, String what) {
        if (value == null) {
            return new LinkedHashMap<>();
        }
        if (!(value instanceof Map)) {
            throw new InvalidReport("invalid-twin", what + " must be a JSON object");
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> copy(Map<String, Object> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, deepCopy(v)));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object deepCopy(Object v) {
        if (v instanceof Map<?, ?> m) {
            return copy((Map<String, Object>) m);
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(deepCopy(x)));
            return out;
        }
        return v;
    }
}

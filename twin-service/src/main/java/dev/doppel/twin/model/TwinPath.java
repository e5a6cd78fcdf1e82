package dev.doppel.twin.model;

import java.util.List;

/**
 * A path into a twin as Ditto's HTTP API names it: {@code attributes/a/b}, {@code definition},
 * {@code features/f/properties/x}, {@code features/f/desiredProperties}, ... The empty path is the
 * thing itself. Anything else is not a path of a twin.
 */
public record TwinPath(List<String> segments) {

    public enum Kind { THING, DEFINITION, ATTRIBUTES, FEATURES, FEATURE, FEATURE_DEFINITION, PROPERTIES, DESIRED }

    public static final TwinPath THING = new TwinPath(List.of());

    /** Parses a slash path; throws {@link InvalidReport} (reason {@code invalid-path}) if it names nothing. */
    public static TwinPath parse(String path) {
        if (path == null || path.isEmpty()) {
            return THING;
        }
        String trimmed = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        List<String> s = List.of(trimmed.split("/", -1));
        for (String segment : s) {
            if (segment.isEmpty()) {
                throw invalid(path);
            }
        }
        TwinPath p = new TwinPath(s);
        p.kind(); // validates the structure
        for (int i = 0; i < s.size(); i++) {
            if (p.isUserKey(i)) {
                ReportValidator.checkKey(s.get(i));
            }
        }
        return p;
    }

    public Kind kind() {
        List<String> s = segments;
        if (s.isEmpty()) {
            return Kind.THING;
        }
        switch (s.get(0)) {
            case "attributes":
                return Kind.ATTRIBUTES;
            case "definition":
                if (s.size() == 1) {
                    return Kind.DEFINITION;
                }
                break;
            case "features":
                if (s.size() == 1) {
                    return Kind.FEATURES;
                }
                if (s.size() == 2) {
                    return Kind.FEATURE;
                }
                switch (s.get(2)) {
                    case "definition":
                        if (s.size() == 3) {
                            return Kind.FEATURE_DEFINITION;
                        }
                        break;
                    case "properties":
                        return Kind.PROPERTIES;
                    case "desiredProperties":
                        return Kind.DESIRED;
                    default:
                        break;
                }
                break;
            default:
                break;
        }
        throw invalid(String.join("/", s));
    }

    /** Whether segment {@code i} is a name chosen by users (attribute, feature or property key). */
    private boolean isUserKey(int i) {
        String first = segments.get(0);
        return ("attributes".equals(first) && i >= 1) || ("features".equals(first) && (i == 1 || i >= 3));
    }

    public String featureId() {
        return segments.size() >= 2 && "features".equals(segments.get(0)) ? segments.get(1) : null;
    }

    /** Desired state (operators may write it); everything else is reported state or structure. */
    public boolean isDesired() {
        return !segments.isEmpty() && kind() == Kind.DESIRED;
    }

    public TwinPath parent() {
        return new TwinPath(segments.subList(0, segments.size() - 1));
    }

    @Override
    public String toString() {
        return String.join("/", segments);
    }

    private static InvalidReport invalid(String path) {
        return new InvalidReport("invalid-path", "'" + path + "' is not a path of a twin: use attributes/..., "
                + "definition, features/{id}, features/{id}/definition, features/{id}/properties/... or "
                + "features/{id}/desiredProperties/...");
    }
}

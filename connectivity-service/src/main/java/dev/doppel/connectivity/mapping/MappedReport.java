package dev.doppel.connectivity.mapping;

import java.util.Map;

/** What a payload says about the twin: reported properties per feature, and attributes. */
public record MappedReport(Map<String, Map<String, Object>> features, Map<String, Object> attributes) {
}

package dev.doppel.connectivity.registry;

import dev.doppel.contracts.ThingId;
import java.time.Instant;
import java.util.List;

/**
 * A registered device; {@code mapping} names its tenant's custom payload mapping, or is null for the
 * default; {@code via} lists the gateways (device ids of the same tenant) that may act for it;
 * {@code defaultContentType} is what its messages that declare none are taken to be (Hono's
 * {@code defaults.content-type}), or null for JSON.
 */
public record Device(ThingId id, boolean enabled, Instant created, String mapping, List<String> via,
        String defaultContentType) {
}

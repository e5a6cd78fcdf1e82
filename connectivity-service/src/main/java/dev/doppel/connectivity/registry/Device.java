package dev.doppel.connectivity.registry;

import dev.doppel.contracts.ThingId;
import java.time.Instant;

/** A registered device; {@code mapping} names its tenant's custom payload mapping, or is null for the default. */
public record Device(ThingId id, boolean enabled, Instant created, String mapping) {
}

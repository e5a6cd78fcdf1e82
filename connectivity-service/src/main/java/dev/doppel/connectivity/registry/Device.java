package dev.doppel.connectivity.registry;

import dev.doppel.contracts.ThingId;
import java.time.Instant;

/** A registered device. */
public record Device(ThingId id, boolean enabled, Instant created) {
}

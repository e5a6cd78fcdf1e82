package dev.doppel.contracts;

import java.time.Instant;

/**
 * A device was registered ({@code registered} true) or removed from the registry. Twin-service creates
 * the twin of a registered device and deletes the twin of a removed one (its history stays until the
 * retention ends).
 */
public record DeviceLifecycleChanged(
        String eventId,
        String thingId,
        boolean registered,
        Instant at) implements DoppelEvent {

    @Override
    public String type() {
        return EventTypes.DEVICE_LIFECYCLE_CHANGED;
    }
}

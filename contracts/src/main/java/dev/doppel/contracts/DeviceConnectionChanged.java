package dev.doppel.contracts;

import java.time.Instant;

/**
 * A device became reachable for commands or stopped being so (Hono's {@code ttd} notification).
 *
 * @param ttd seconds the device stays reachable: {@code -1} until further notice, {@code 0} gone
 */
public record DeviceConnectionChanged(
        String eventId,
        String thingId,
        int ttd,
        String transport,
        Instant at) implements DoppelEvent {

    public boolean connected() {
        return ttd != 0;
    }

    @Override
    public String type() {
        return EventTypes.DEVICE_CONNECTION_CHANGED;
    }
}

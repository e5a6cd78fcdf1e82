package dev.doppel.contracts;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * How much a twin can still grow, told by twin-service so that connectivity can refuse a device's
 * report that would overgrow it while the device is still there to be answered (MQTT 5 PUBACK
 * {@code 0x97}, HTTP 413, CoAP 4.13), instead of acknowledging it and having twin-service drop it.
 * Published on {@link Topics#TWIN_ROOM} when twin-service refused a report as too large, and when an
 * API edit may have made room (a delete, a whole thing, feature or properties replaced).
 *
 * <p>Twin-service stays the judge: connectivity only refuses what surely does not fit, the bytes that
 * a report's new keys add alone (values of keys the twin has may shrink as well as grow).
 *
 * @param room       bytes the twin's JSON may still grow by ({@code doppel.twin.max-document-bytes}
 *                   minus its size)
 * @param attributes the twin's attribute keys; null (with {@code features}) when the twin has so much
 *                   room that no device report can overgrow it ({@code doppel.twin.room-tracked-below}):
 *                   the reader forgets the twin
 * @param features   the twin's features, each with its reported property keys
 * @param at         when the twin was measured
 */
public record TwinRoom(
        String eventId,
        String thingId,
        long room,
        List<String> attributes,
        Map<String, List<String>> features,
        Instant at) implements DoppelEvent {

    /** Whether the twin has room for any report: nothing to track. */
    public boolean open() {
        return attributes == null || features == null;
    }

    @Override
    public String type() {
        return EventTypes.TWIN_ROOM;
    }
}

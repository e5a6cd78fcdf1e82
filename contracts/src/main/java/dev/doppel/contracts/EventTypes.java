package dev.doppel.contracts;

/** CloudEvents {@code ce_type} values. The suffix is the payload version; consumers ignore types they do not know. */
public final class EventTypes {
    public static final String TELEMETRY_RECEIVED = "dt.device.telemetry.v1";
    public static final String DEVICE_EVENT_RECEIVED = "dt.device.event.v1";
    public static final String DEVICE_CONNECTION_CHANGED = "dt.device.connection.v1";
    public static final String DEVICE_LIFECYCLE_CHANGED = "dt.device.lifecycle.v1";
    public static final String TWIN_CHANGED = "dt.twin.changed.v1";
    public static final String TWIN_ROOM = "dt.twin.room.v1";
    public static final String REGISTRY_CHANGED = "dt.registry.changed.v1";
    public static final String COMMAND_REQUESTED = "dt.command.requested.v1";
    public static final String COMMAND_STATUS_CHANGED = "dt.command.status.v1";

    private EventTypes() {
    }
}

package dev.doppel.contracts;

/** Kafka topic names. Every record is keyed by the thing id, so one device's events stay in order. */
public final class Topics {
    public static final String DEVICE_TELEMETRY = "dt.device-telemetry";
    public static final String DEVICE_EVENTS = "dt.device-events";
    public static final String DEVICE_CONNECTIONS = "dt.device-connections";
    public static final String DEVICES = "dt.devices";
    public static final String TWIN_CHANGES = "dt.twin-changes";
    public static final String COMMANDS = "dt.commands";
    public static final String COMMAND_STATUS = "dt.command-status";
    /**
     * Connectivity's own: a command handed from the instance that consumed it to the instance that
     * holds the device's connection (header {@code doppel-route-to}); every instance reads all of it.
     */
    public static final String COMMAND_ROUTES = "dt.command-routes";

    /**
     * Header of a {@link #COMMANDS} record that is the command's first publication, not one published
     * again when its device connected: no connectivity instance delivered it before the partition's
     * owner reads that record. Without it a record may repeat a command a device has had already.
     */
    public static final String FIRST_PUBLICATION_HEADER = "doppel-first-publication";

    /**
     * Twin-service's word to every connectivity instance on twins that are (nearly) full: their room
     * and keys ({@link TwinRoom}). Each instance reads all of it; records count for a limited time.
     */
    public static final String TWIN_ROOM = "dt.twin-room";

    /**
     * Connectivity's own: a registry change that may end devices' connections ({@link RegistryChanged}),
     * from the instance that took it to every instance.
     */
    public static final String REGISTRY_CHANGES = "dt.registry-changes";

    /** All topics, for brokers that create them up front. */
    public static final java.util.List<String> ALL = java.util.List.of(
            DEVICE_TELEMETRY, DEVICE_EVENTS, DEVICE_CONNECTIONS, DEVICES, TWIN_CHANGES, COMMANDS, COMMAND_STATUS,
            COMMAND_ROUTES, TWIN_ROOM, REGISTRY_CHANGES);

    private Topics() {
    }
}

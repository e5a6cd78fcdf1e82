package dev.doppel.contracts;

/** The events that cross service boundaries. Each is keyed by its thing id and carries a unique event id. */
public sealed interface DoppelEvent
        permits TelemetryReceived, DeviceConnectionChanged, DeviceLifecycleChanged, TwinChanged, CommandRequested,
        CommandStatusChanged, TwinRoom, RegistryChanged {

    String eventId();

    String thingId();

    /** The CloudEvents type string, see {@link EventTypes}. */
    String type();
}

package dev.doppel.connectivity.command;

import dev.doppel.contracts.CommandRequested;

/** A live connection of a device that can take commands (an MQTT session subscribed to commands, ...). */
public interface CommandSink {

    /** Hands the command to the device; the sink reports SENT and DELIVERED itself. */
    void deliver(CommandRequested command);

    String transport();

    /**
     * Whether the device can take a command now. A sink held for a device that is not answering (a
     * Modbus device that stopped responding) says no, and its commands wait as for an offline device.
     */
    default boolean ready() {
        return true;
    }
}

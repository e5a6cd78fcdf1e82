package dev.doppel.connectivity.command;

import dev.doppel.contracts.CommandRequested;

/** A live connection of a device that can take commands (an MQTT session subscribed to commands, ...). */
public interface CommandSink {

    /** Hands the command to the device; the sink reports SENT and DELIVERED itself. */
    void deliver(CommandRequested command);

    String transport();
}

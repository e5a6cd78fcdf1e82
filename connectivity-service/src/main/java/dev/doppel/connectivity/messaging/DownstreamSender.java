package dev.doppel.connectivity.messaging;

import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.RegistryChanged;
import dev.doppel.contracts.TelemetryReceived;
import io.smallrye.mutiny.Uni;

/**
 * The one narrow interface through which protocol adapters hand events on. Each {@code Uni}
 * completes only when the event is durably accepted (the broker acknowledged it), so an adapter
 * can acknowledge the device only then.
 */
public interface DownstreamSender {

    Uni<Void> report(TelemetryReceived report);

    Uni<Void> connection(DeviceConnectionChanged change);

    Uni<Void> commandStatus(CommandStatusChanged status);

    Uni<Void> deviceLifecycle(DeviceLifecycleChanged change);

    /** Tells every connectivity instance of a registry change that may end devices' connections. */
    Uni<Void> registryChange(RegistryChanged change);

    /** Hands a command to the connectivity instance that holds its device's connection. */
    Uni<Void> handOver(String instance, CommandRequested command);
}

package dev.doppel.connectivity.command;

import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.ThingId;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * Hono's {@code hono-ttd} for request/response transports (HTTP, CoAP): the device's request is held
 * open as its command sink for up to ttd seconds, announced as {@code ttd=N} and then {@code ttd=0}
 * on {@code dt.device-connections}. The transport writes the command into its response and reports
 * {@link #delivered} once the device has it.
 */
@ApplicationScoped
public class CommandWait {

    private static final Logger LOG = Logger.getLogger(CommandWait.class);

    /** Longest wait a device may ask for. */
    public static final int MAX_TTD_SECONDS = 60;

    private final CommandRouter router;
    private final DownstreamSender downstream;

    public CommandWait(CommandRouter router, DownstreamSender downstream) {
        this.router = router;
        this.downstream = downstream;
    }

    /** The ttd a device asked for, capped at {@link #MAX_TTD_SECONDS}; 0 when absent, -1 when malformed. */
    public static int parseTtd(String ttd) {
        if (ttd == null || ttd.isBlank()) {
            return 0;
        }
        try {
            int n = Integer.parseInt(ttd.trim());
            return n < 0 ? -1 : Math.min(n, MAX_TTD_SECONDS);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Whether a request asking for ttd seconds should wait: not when the device is already reachable
     * (over MQTT, or by another waiting request), since its commands go there.
     */
    public boolean shouldWait(ThingId device, int ttd) {
        return ttd > 0 && !router.isReachable(device.toString());
    }

    /** The next command for the device, already reported {@code SENT}, or {@code null} after ttd seconds. */
    public Uni<CommandRequested> await(ThingId device, int ttd, String transport) {
        CompletableFuture<CommandRequested> next = new CompletableFuture<>();
        CommandSink sink = new CommandSink() {
            @Override
            public void deliver(CommandRequested command) {
                if (next.complete(command)) {
                    router.unregister(device.toString(), this);
                    router.reportStep(command, CommandStatus.SENT, transport).subscribe().with(ok -> {
                    }, f -> {
                    });
                }
            }

            @Override
            public String transport() {
                return transport;
            }
        };
        router.register(device.toString(), sink);
        return announce(device, ttd, transport)
                .chain(() -> Uni.createFrom().completionStage(next))
                .ifNoItem().after(Duration.ofSeconds(ttd)).recoverWithItem(() -> null)
                .onTermination().call(() -> router.unregister(device.toString(), sink)
                        // Still held by another connection (MQTT, a gateway): it has not gone away.
                        ? announce(device, 0, transport) : Uni.createFrom().voidItem());
    }

    /** The device has the command (the response carrying it was written): the transport's pick-up. */
    public void delivered(CommandRequested command, String transport) {
        router.reportStep(command, CommandStatus.DELIVERED, transport).subscribe().with(ok -> {
        }, f -> LOG.warnf("could not report delivery of %s: %s", command.commandId(), f.getMessage()));
    }

    private Uni<Void> announce(ThingId device, int ttd, String transport) {
        return downstream.connection(new DeviceConnectionChanged(UUID.randomUUID().toString(), device.toString(), ttd,
                transport, Instant.now())).onFailure().recoverWithNull().replaceWithVoid();
    }
}

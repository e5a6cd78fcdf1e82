package dev.doppel.twin.messaging;

import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinRoom;
import dev.doppel.support.memory.BoundedEntries;
import dev.doppel.support.messaging.EventMessages;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.service.TwinSizeLimit;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.jboss.logging.Logger;

/**
 * Tells connectivity how much room a twin has left ({@link TwinRoom} on {@code dt.twin-room}), so
 * that a device whose reports would overgrow its twin is refused while it can still be answered.
 * Sent when a report grows a twin to within {@code doppel.twin.room-tracked-below} of its limit, so
 * that the report that would overgrow it is refused at the edge already, and when one was refused as
 * too large anyway (each at most once per {@value #EVERY_SECONDS} s per twin: a device that keeps
 * writing must not turn each write into a record of all the twin's keys; connectivity counts what it
 * lets through against the room meanwhile), and after an API edit that may have made room. Nothing
 * waits for it: a notice that is lost leaves connectivity with an older view for a while, and
 * twin-service still refuses what does not fit.
 */
@ApplicationScoped
public class TwinRoomNotices {

    private static final Logger LOG = Logger.getLogger(TwinRoomNotices.class);
    static final int EVERY_SECONDS = 30;
    /** Twins whose last notice is remembered (BoundedEntries: those told long enough ago go first). */
    private static final int REMEMBERED = 10_000;

    private final MutinyEmitter<TwinRoom> emitter;
    private final TwinSizeLimit sizeLimit;
    private final int trackedBelow;
    private final Clock clock = Clock.systemUTC();
    private final Map<ThingId, Instant> lastTold = new ConcurrentHashMap<>();

    public TwinRoomNotices(@Channel("twin-room") MutinyEmitter<TwinRoom> emitter, TwinSizeLimit sizeLimit,
            @ConfigProperty(name = "doppel.twin.room-tracked-below", defaultValue = "131072") int trackedBelow) {
        this.emitter = emitter;
        this.sizeLimit = sizeLimit;
        this.trackedBelow = trackedBelow;
    }

    /** Whether the room of this twin is to be told now (not told within the last few seconds). */
    public boolean due(ThingId id) {
        Instant now = clock.instant();
        Instant recent = now.minus(Duration.ofSeconds(EVERY_SECONDS));
        BoundedEntries.makeRoom(lastTold, REMEMBERED, last -> !last.isAfter(recent));
        boolean[] due = {false};
        lastTold.compute(id, (k, last) -> {
            due[0] = last == null || !last.isAfter(recent);
            return due[0] ? now : last;
        });
        return due[0];
    }

    /** Tells the twin's room and keys as it is stored (a report for it was refused). */
    public void refused(Twin twin) {
        send(twin.thingId(), sizeLimit.room(twin), twin);
    }

    /** A report was written: a twin left with less room than {@code room-tracked-below} is told, now and then. */
    public void written(Twin twin, long room) {
        if (room < trackedBelow && due(twin.thingId())) {
            send(twin.thingId(), room, twin);
        }
    }

    /** Tells the room after an API edit: the twin as written, or null when it was deleted. */
    public void edited(ThingId id, Twin twin) {
        long room = twin == null ? sizeLimit.maxDocumentBytes() : sizeLimit.room(twin);
        send(id, room, twin == null || room >= trackedBelow ? null : twin);
    }

    /** Sends the room, with the keys of {@code keysOf} (null: the twin is open). */
    private void send(ThingId id, long room, Twin keysOf) {
        Map<String, List<String>> features = null;
        if (keysOf != null) {
            features = new LinkedHashMap<>();
            for (var f : keysOf.features().entrySet()) {
                features.put(f.getKey(), List.copyOf(f.getValue().properties().keySet()));
            }
        }
        TwinRoom notice = new TwinRoom(UUID.randomUUID().toString(), id.toString(), Math.max(0, room),
                keysOf == null ? null : List.copyOf(keysOf.attributes().keySet()), features, clock.instant());
        emitter.sendMessage(EventMessages.of(notice))
                .subscribe().with(ok -> {
                }, failure -> LOG.warnf("could not tell the room of %s: %s", id, failure.getMessage()));
    }
}

package dev.doppel.connectivity.limits;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.connectivity.config.TwinRoomConfig;
import dev.doppel.connectivity.mapping.MappedReport;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinRoom;
import dev.doppel.support.messaging.EventRecords;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Refuses a device's report that would grow its twin past {@code doppel.twin.max-document-bytes}
 * while the device can still be told (MQTT 5 PUBACK {@code 0x97}, HTTP 413, CoAP 4.13, all with reason
 * {@value #TWIN_FULL}). Before, such a report was acknowledged and twin-service dropped it: the device
 * never knew. Twin-service tells every instance the room and keys of twins that are (nearly) full
 * ({@link TwinRoom} on {@code dt.twin-room}): when it refused a report as too large, and when an API
 * edit may have made room.
 *
 * <p>A report is refused when the keys it adds alone need more than the room: their bytes as JSON
 * ({@code "key":value,}), a lower bound of what the twin grows by, since the values of keys the twin
 * has may shrink as well as grow. So nothing that fits is refused here (as far as the last notice
 * knew); what passes and still does not fit is dropped by twin-service, as before, which tells the
 * room anew. A report that passes counts against the room at once (its keys are added, its bytes
 * taken), so a device adding keys bit by bit meets the limit here too.
 *
 * <p>Twins without a notice cost one map lookup per report. What is remembered is bounded
 * ({@link TwinRoomConfig}): keys as 64-bit hashes, each twin for {@code ttl}; a hash shared by a new
 * key and a known one only lets a report through to twin-service's own check.
 */
@ApplicationScoped
public class TwinRooms {

    public static final String TWIN_FULL = "twin-full";
    static final Logger LOG = Logger.getLogger(TwinRooms.class);

    /** One twin as last told: bytes left and its keys (sorted hashes); guarded by itself. */
    private static final class Room {
        long room;
        long[] keys;
        final Instant until;

        Room(long room, long[] keys, Instant until) {
            this.room = room;
            this.keys = keys;
            this.until = until;
        }
    }

    private final Map<ThingId, Room> rooms = new ConcurrentHashMap<>();
    private final AtomicLong keysHeld = new AtomicLong();
    private final TwinRoomConfig config;
    private final ObjectMapper json;
    private final RefusalLog refusals;
    private final MeterRegistry metrics;
    private final Clock clock = Clock.systemUTC();

    public TwinRooms(TwinRoomConfig config, ObjectMapper json, RefusalLog refusals, MeterRegistry metrics) {
        this.config = config;
        this.json = json;
        this.refusals = refusals;
        this.metrics = metrics;
    }

    /** Notices from twin-service; every instance reads them all. A malformed one is counted and skipped. */
    @Incoming("twin-room")
    public void consume(ConsumerRecord<String, byte[]> record) {
        TwinRoom notice = EventRecords.read(record, EventTypes.TWIN_ROOM, TwinRoom.class, json, e -> {
            metrics.counter("doppel.twin.room.notices", "outcome", "malformed").increment();
            LOG.warnf("skipped malformed twin room notice at partition %d offset %d: %s", record.partition(),
                    record.offset(), e.getClass().getSimpleName());
        });
        if (notice == null || notice.thingId() == null) {
            return;
        }
        try {
            told(notice);
        } catch (RuntimeException e) {
            metrics.counter("doppel.twin.room.notices", "outcome", "malformed").increment();
            LOG.warnf("skipped twin room notice of %s: %s", notice.thingId(), e.toString());
        }
    }

    /** Takes a notice: the twin's room and keys, or that it is open again. */
    void told(TwinRoom notice) {
        Instant now = clock.instant();
        Instant until = (notice.at() == null ? now : notice.at()).plus(config.ttl());
        ThingId thing = ThingId.parse(notice.thingId());
        forget(thing);
        if (notice.open() || !now.isBefore(until)) {
            metrics.counter("doppel.twin.room.notices", "outcome", "open").increment();
            return;
        }
        long[] keys = hashes(notice);
        makeRoom(keys.length, now);
        rooms.put(thing, new Room(notice.room(), keys, until));
        keysHeld.addAndGet(keys.length);
        metrics.counter("doppel.twin.room.notices", "outcome", "tracked").increment();
    }

    /**
     * Keeps within {@code max-twins} and {@code max-keys} with one more twin of {@code keys} keys:
     * expired twins go first, then all (each is only a shortcut to twin-service's own judgement).
     */
    private void makeRoom(int keys, Instant now) {
        if (rooms.size() < config.maxTwins() && keysHeld.get() + keys <= config.maxKeys()) {
            return;
        }
        rooms.values().removeIf(r -> !now.isBefore(r.until));
        if (rooms.size() >= config.maxTwins() || keysHeld() + keys > config.maxKeys()) {
            rooms.clear();
        }
        keysHeld.set(keysHeld());
    }

    private long keysHeld() {
        return rooms.values().stream().mapToLong(r -> r.keys.length).sum();
    }

    private void forget(ThingId thing) {
        Room gone = rooms.remove(thing);
        if (gone != null) {
            keysHeld.addAndGet(-gone.keys.length);
        }
    }

    /**
     * Null when {@code device}'s report may go on, else why not (the reason is {@value #TWIN_FULL}).
     * A report that may go on is counted against the twin's room.
     */
    public String refusal(ThingId device, MappedReport report) {
        Room room = rooms.get(device);
        if (room == null) {
            return null;
        }
        if (!clock.instant().isBefore(room.until)) {
            forget(device);
            return null;
        }
        synchronized (room) {
            Added added = new Added();
            long grows = growth(report, room.keys, added);
            if (grows > room.room) {
                refusals.log(LOG, device.toString(), "refused a report of %s: its new keys need at least %d bytes, "
                        + "its twin has %d left (doppel.twin.max-document-bytes)", device, grows, room.room);
                return "its twin has room for " + room.room + " more bytes (doppel.twin.max-document-bytes); the "
                        + "keys this report adds need at least " + grows;
            }
            room.room -= grows;
            if (added.count > 0) {
                room.keys = merged(room.keys, Arrays.copyOf(added.hashes, added.count));
                keysHeld.addAndGet(added.count);
            }
            return null;
        }
    }

    /** Hashes of the keys a report adds. */
    private static final class Added {
        long[] hashes = new long[8];
        int count;

        void add(long hash) {
            if (count == hashes.length) {
                hashes = Arrays.copyOf(hashes, count * 2);
            }
            hashes[count++] = hash;
        }
    }

    /** The bytes the report's new keys add at least; their hashes go to {@code added}. */
    private long growth(MappedReport report, long[] known, Added added) {
        long bytes = 0;
        if (report.attributes() != null) {
            for (var e : report.attributes().entrySet()) {
                bytes += ifNew(attributePath(e.getKey()), e.getKey(), e.getValue(), known, added);
            }
        }
        if (report.features() != null) {
            for (var f : report.features().entrySet()) {
                bytes += ifNew(featurePath(f.getKey()), f.getKey(), Map.of(), known, added);
                if (f.getValue() != null) {
                    for (var p : f.getValue().entrySet()) {
                        bytes += ifNew(propertyPath(f.getKey(), p.getKey()), p.getKey(), p.getValue(), known,
                                added);
                    }
                }
            }
        }
        return Math.max(0, bytes - 1); // the last member of an object has no comma
    }

    /** The bytes of a member the twin does not have yet, else 0. */
    private long ifNew(String path, String key, Object value, long[] known, Added added) {
        long hash = hash(path);
        if (Arrays.binarySearch(known, hash) >= 0) {
            return 0;
        }
        added.add(hash);
        return member(key, value);
    }

    /** {@code "key":value,} as JSON. */
    private long member(String key, Object value) {
        try {
            return key.length() + 4L + json.writeValueAsBytes(value).length;
        } catch (JsonProcessingException e) {
            return key.length() + 4L;
        }
    }

    private static long[] hashes(TwinRoom notice) {
        long[] keys = new long[notice.attributes().size() + notice.features().values().stream()
                .mapToInt(p -> 1 + (p == null ? 0 : p.size())).sum()];
        int i = 0;
        for (String k : notice.attributes()) {
            keys[i++] = hash(attributePath(k));
        }
        for (Map.Entry<String, List<String>> f : notice.features().entrySet()) {
            keys[i++] = hash(featurePath(f.getKey()));
            if (f.getValue() != null) {
                for (String k : f.getValue()) {
                    keys[i++] = hash(propertyPath(f.getKey(), k));
                }
            }
        }
        Arrays.sort(keys);
        return keys;
    }

    private static long[] merged(long[] sorted, long[] more) {
        long[] all = Arrays.copyOf(sorted, sorted.length + more.length);
        System.arraycopy(more, 0, all, sorted.length, more.length);
        Arrays.sort(all);
        return all;
    }

    // Keys cannot hold '/', so these paths name one key each.
    private static String attributePath(String key) {
        return "a/" + key;
    }

    private static String featurePath(String featureId) {
        return "f/" + featureId;
    }

    private static String propertyPath(String featureId, String key) {
        return "p/" + featureId + "/" + key;
    }

    /** FNV-1a, 64 bits, over the path's characters. */
    static long hash(String path) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < path.length(); i++) {
            h ^= path.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }
}

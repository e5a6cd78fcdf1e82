package dev.doppel.twin.mapping;

import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.twin.model.Feature;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.model.Twin;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;

/**
 * Twin ↔ MongoDB document ({@code twins} collection). Source times are kept as ISO-8601 strings in
 * {@code _metadata} because they need microsecond precision (BSON dates have milliseconds).
 * {@code _outbox} holds what the last write still had to deliver (see {@link Outbox}).
 */
public final class TwinDocumentMapper {

    private TwinDocumentMapper() {
    }

    public static Document toDocument(Twin twin) {
        Document features = new Document();
        Document featureMeta = new Document();
        twin.features().forEach((id, f) -> {
            Document feature = new Document("properties", new Document(f.properties()))
                    .append("desiredProperties", new Document(f.desiredProperties()));
            if (f.definition() != null) {
                feature.append("definition", f.definition());
            }
            features.put(id, feature);
            featureMeta.put(id, new Document("properties", times(f.propertyTimes()))
                    .append("desiredProperties", times(f.desiredTimes())));
        });
        return new Document("_id", twin.thingId().toString())
                .append("tenant", twin.thingId().tenant())
                .append("definition", twin.definition())
                .append("attributes", new Document(twin.attributes()))
                .append("features", features)
                .append("_metadata", new Document("attributes", times(twin.attributeTimes()))
                        .append("features", featureMeta))
                .append("_revision", twin.revision())
                .append("_created", Date.from(twin.created()))
                .append("_modified", Date.from(twin.modified()));
    }

    /** The twin together with the outbox of the write that produced it. */
    public static Document toDocument(Twin twin, Outbox outbox) {
        List<Document> changes = new ArrayList<>();
        outbox.change().changes().forEach((path, value) -> changes.add(new Document("path", path)
                .append("value", value).append("time", outbox.times().get(path).toString())));
        TwinChanged c = outbox.change();
        return toDocument(twin).append("_outbox", new Document("id", c.eventId())
                .append("revision", c.revision())
                .append("previous", c.previousRevision())
                .append("modified", c.modified().toString())
                .append("cause", c.cause())
                .append("delta", new Document(c.delta()))
                .append("changes", changes));
    }

    /** The outbox stored with a twin, if the document has one (documents written before it had none). */
    public static Optional<Outbox> outboxOf(Document doc) {
        if (!(doc.get("_outbox") instanceof Document o)) {
            return Optional.empty();
        }
        Map<String, Object> changes = new LinkedHashMap<>();
        Map<String, Instant> times = new LinkedHashMap<>();
        for (Document entry : o.getList("changes", Document.class)) {
            changes.put(entry.getString("path"), entry.get("value"));
            times.put(entry.getString("path"), Instant.parse(entry.getString("time")));
        }
        return Optional.of(new Outbox(new TwinChanged(o.getString("id"), doc.getString("_id"),
                o.get("revision", Number.class).longValue(), o.get("previous", Number.class).longValue(), changes,
                Instant.parse(o.getString("modified")), o.getString("cause"), sub(o, "delta")), times, false));
    }

    public static Twin fromDocument(Document doc) {
        Document meta = sub(doc, "_metadata");
        Document featureMeta = sub(meta, "features");
        Map<String, Feature> features = new LinkedHashMap<>();
        sub(doc, "features").forEach((id, value) -> {
            Document f = (Document) value;
            features.put(id, new Feature(f.getList("definition", String.class), sub(f, "properties"),
                    sub(f, "desiredProperties"), parseTimes(sub(sub(featureMeta, id), "properties")),
                    parseTimes(sub(sub(featureMeta, id), "desiredProperties"))));
        });
        return new Twin(ThingId.parse(doc.getString("_id")), doc.getString("definition"), sub(doc, "attributes"),
                features,
                parseTimes(sub(meta, "attributes")), doc.get("_revision", Number.class).longValue(),
                doc.getDate("_created").toInstant(), doc.getDate("_modified").toInstant());
    }

    private static Document times(Map<String, Instant> times) {
        Document d = new Document();
        times.forEach((k, t) -> d.put(k, new Document("sourceTime", t.toString())));
        return d;
    }

    private static Map<String, Instant> parseTimes(Document d) {
        Map<String, Instant> out = new LinkedHashMap<>();
        d.forEach((k, v) -> out.put(k, Instant.parse(((Document) v).getString("sourceTime"))));
        return out;
    }

    private static Document sub(Document d, String key) {
        Object v = d == null ? null : d.get(key);
        return v instanceof Document sub ? sub : new Document();
    }
}

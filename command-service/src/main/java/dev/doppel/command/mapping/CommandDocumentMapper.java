package dev.doppel.command.mapping;

import dev.doppel.command.model.Command;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.ThingId;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.types.Binary;

/** Command ↔ MongoDB document ({@code commands} collection). */
public final class CommandDocumentMapper {

    private CommandDocumentMapper() {
    }

    public static Document toDocument(Command c) {
        return new Document("_id", c.id())
                .append("thingId", c.thingId())
                .append("tenant", ThingId.parse(c.thingId()).tenant())
                .append("subject", c.subject())
                .append("contentType", c.contentType())
                .append("payload", new Binary(c.payload()))
                .append("responseRequired", c.responseRequired())
                .append("timeoutMs", c.timeout().toMillis())
                .append("ttlMs", c.ttl().toMillis())
                .append("expiresAt", c.expiresAt() == null ? null : Date.from(c.expiresAt()))
                // The next timer: expiry while waiting for the device, else the answer's deadline (see CommandTimers).
                .append("dueAt", Date.from(c.expiresAt() != null ? c.expiresAt() : c.deadline()))
                .append("createdAt", Date.from(c.createdAt()))
                .append("deadline", Date.from(c.deadline()))
                .append("status", c.status().name())
                .append("history", c.history().stream().map(CommandDocumentMapper::entry).toList());
    }

    public static Document entry(Command.StatusEntry e) {
        return new Document("status", e.status().name()).append("at", Date.from(e.at())).append("reason", e.reason());
    }

    /**
     * Steps can be recorded out of order: a device may answer before its PUBACK is processed, so
     * DELIVERED arrives after SUCCEEDED. History reads in time order, except that a step the device
     * took on the way (SENT, DELIVERED) is listed before the end it led to, with its own time kept.
     */
    static List<Command.StatusEntry> inLifecycleOrder(List<Command.StatusEntry> entries) {
        return entries.stream().sorted(LIFECYCLE_ORDER).toList();
    }

    private static final java.util.Comparator<Command.StatusEntry> LIFECYCLE_ORDER = java.util.Comparator
            .comparing((Command.StatusEntry e) -> e.status().isTerminal()).thenComparing(Command.StatusEntry::at);

    public static Command fromDocument(Document d) {
        List<Command.StatusEntry> history = inLifecycleOrder(d.getList("history", Document.class).stream()
                .map(h -> new Command.StatusEntry(CommandStatus.valueOf(h.getString("status")),
                        h.getDate("at").toInstant(), h.getString("reason")))
                .toList());
        Document r = d.get("response", Document.class);
        Command.Response response = r == null ? null
                : new Command.Response(r.getInteger("statusCode"), r.getString("contentType"), bytes(r.get("payload")));
        return new Command(d.getString("_id"), d.getString("thingId"), d.getString("subject"),
                d.getString("contentType"), bytes(d.get("payload")), d.getBoolean("responseRequired", true),
                Duration.ofMillis(d.get("timeoutMs", Number.class).longValue()),
                Duration.ofMillis(d.get("ttlMs") instanceof Number n ? n.longValue() : 0L),
                d.getDate("expiresAt") == null ? null : d.getDate("expiresAt").toInstant(), d.getDate("createdAt").toInstant(),
                d.getDate("deadline").toInstant(), CommandStatus.valueOf(d.getString("status")), history, response);
    }

    private static byte[] bytes(Object o) {
        return o instanceof Binary b ? b.getData() : o instanceof byte[] a ? a : new byte[0];
    }
}

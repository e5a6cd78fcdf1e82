package dev.doppel.command.repository;

import dev.doppel.support.memory.BoundedEntries;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.Document;

/**
 * The commands this instance wrote lately, as the store returned them: a status move starts from this
 * copy instead of reading the command again. It is only a starting point: every move is a
 * compare-and-set on the status that was read, so a copy that another writer (a replica, the other
 * consumer) made stale fails that compare, and the move reads the command and tries again. Statuses
 * only move forward, so a stale copy is never ahead of the store: a move it refuses (the command
 * reached that step, a later one, or an end) the store would refuse too.
 *
 * <p>A copy leaves out the payload and the answer, so its size does not depend on what callers and
 * devices send: at most {@code capacity} copies of a few hundred bytes each.
 */
final class RecentCommands {

    private final int capacity;
    private final Map<String, Document> commands = new ConcurrentHashMap<>();

    RecentCommands(int capacity) {
        this.capacity = capacity;
    }

    Document get(String id) {
        return commands.get(id);
    }

    /** Keeps the command as the store has it now; when full, the oldest are not known, so all go. */
    void written(Document command) {
        Document copy = new Document(command);
        copy.remove("payload");
        copy.remove("response");
        BoundedEntries.makeRoom(commands, capacity, any -> false);
        commands.put(copy.getString("_id"), copy);
    }
}

package dev.doppel.command.testing;

import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandStartedEvent;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * The writes the service sends to MongoDB's {@code commands} collection, counted per command id as
 * the driver sends them (the client registers listener beans).
 */
@ApplicationScoped
public class StoreWrites implements CommandListener {

    private final Map<String, AtomicInteger> byCommand = new ConcurrentHashMap<>();

    @Override
    public void commandStarted(CommandStartedEvent event) {
        BsonDocument c = event.getCommand();
        switch (event.getCommandName()) {
            case "insert" -> {
                if (onCommands(c, "insert")) {
                    c.getArray("documents", new org.bson.BsonArray())
                            .forEach(d -> count(d.asDocument().get("_id")));
                }
            }
            case "findAndModify" -> {
                if (onCommands(c, "findAndModify")) {
                    count(c.getDocument("query").get("_id"));
                }
            }
            case "update" -> {
                if (onCommands(c, "update")) {
                    c.getArray("updates").forEach(u -> count(u.asDocument().getDocument("q").get("_id")));
                }
            }
            default -> {
                // reads and other collections are not counted
            }
        }
    }

    private static boolean onCommands(BsonDocument command, String name) {
        return command.isString(name) && command.getString(name).getValue().equals("commands");
    }

    private void count(BsonValue id) {
        if (id != null && id.isString()) {
            byCommand.computeIfAbsent(id.asString().getValue(), k -> new AtomicInteger()).incrementAndGet();
        }
    }

    /** The writes made so far on the command with this id (the documents inserted included). */
    public int on(String commandId) {
        AtomicInteger n = byCommand.get(commandId);
        return n == null ? 0 : n.get();
    }
}

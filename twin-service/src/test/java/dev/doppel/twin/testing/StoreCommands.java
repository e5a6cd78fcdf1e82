package dev.doppel.twin.testing;

import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandStartedEvent;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.bson.BsonDocument;

/** The queries the service sends to MongoDB, as the driver sends them (the client registers listener beans). */
@ApplicationScoped
public class StoreCommands implements CommandListener {

    private static final int KEPT = 1_000;
    private final ConcurrentLinkedDeque<BsonDocument> queries = new ConcurrentLinkedDeque<>();

    @Override
    public void commandStarted(CommandStartedEvent event) {
        String name = event.getCommandName();
        if (name.equals("find") || name.equals("aggregate")) {
            queries.addLast(event.getCommand().clone());
            while (queries.size() > KEPT) {
                queries.pollFirst();
            }
        }
    }

    public void clear() {
        queries.clear();
    }

    /** The {@code find} and {@code aggregate} commands sent since {@link #clear} on this collection. */
    public List<BsonDocument> on(String collection) {
        List<BsonDocument> out = new ArrayList<>();
        for (BsonDocument q : queries) {
            String target = q.containsKey("find") ? q.getString("find").getValue()
                    : q.isString("aggregate") ? q.getString("aggregate").getValue() : "";
            if (target.equals(collection)) {
                out.add(q);
            }
        }
        return out;
    }
}

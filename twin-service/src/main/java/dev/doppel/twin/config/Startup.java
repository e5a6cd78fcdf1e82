package dev.doppel.twin.config;

import dev.doppel.twin.repository.HistoryRepository;
import dev.doppel.twin.repository.TwinRepository;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import dev.doppel.twin.search.RqlToMongo;
import dev.doppel.twin.security.LiveTickets;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Declares the MongoDB indexes before traffic arrives, including one per configured search path. */
public class Startup {

    void onStart(@Observes StartupEvent ev, TwinRepository repository, HistoryRepository history, LiveTickets tickets,
            @ConfigProperty(name = "doppel.twin.search.indexes") java.util.List<String> searchPaths) {
        repository.ensureIndexes().await().atMost(Duration.ofSeconds(30));
        history.ensureIndexes().await().atMost(Duration.ofSeconds(30));
        tickets.ensureIndexes().await().atMost(Duration.ofSeconds(30));
        for (String path : searchPaths) {
            repository.ensureSearchIndex(RqlToMongo.field(path.trim())).await().atMost(Duration.ofSeconds(30));
        }
    }
}

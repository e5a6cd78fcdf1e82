package dev.doppel.twin.config;

import dev.doppel.twin.repository.TwinRepository;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import java.time.Duration;

/** Declares the MongoDB indexes before traffic arrives. */
public class Startup {

    void onStart(@Observes StartupEvent ev, TwinRepository repository) {
        repository.ensureIndexes().await().atMost(Duration.ofSeconds(30));
    }
}

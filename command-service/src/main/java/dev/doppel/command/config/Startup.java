package dev.doppel.command.config;

import dev.doppel.command.repository.CommandRepository;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import java.time.Duration;

/** Declares the MongoDB indexes before traffic arrives. */
public class Startup {

    void onStart(@Observes StartupEvent ev, CommandRepository repository) {
        repository.ensureIndexes().await().atMost(Duration.ofSeconds(30));
    }
}

package dev.doppel.command.config;

import dev.doppel.command.repository.CommandRepository;
import dev.doppel.command.service.KnownThings;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Declares the MongoDB indexes before traffic arrives; readiness waits for the view of the device
 * registry, so an instance takes commands only once it knows the registered things.
 */
public class Startup {

    void onStart(@Observes StartupEvent ev, CommandRepository repository) {
        repository.ensureIndexes().await().atMost(Duration.ofSeconds(30));
    }

    @Readiness
    @ApplicationScoped
    public static class RegisteredThingsReadiness implements HealthCheck {

        private final KnownThings known;

        public RegisteredThingsReadiness(KnownThings known) {
            this.known = known;
        }

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("registered-things")
                    .status(known.isCaughtUp())
                    .withData("things", known.size())
                    .build();
        }
    }
}

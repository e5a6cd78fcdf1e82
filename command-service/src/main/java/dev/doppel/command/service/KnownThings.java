package dev.doppel.command.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.command.config.CommandConfig;
import dev.doppel.command.messaging.RegisteredThingsView;
import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.contracts.Topics;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.vertx.CallerContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executor;
import org.jboss.logging.Logger;

/**
 * Commands go only to registered devices. A thing this instance's view of the registry knows is accepted
 * at once; for one it does not know, the view first catches up with the registry as it is now (a device
 * registered a moment ago), then the thing is refused as not found. If the view cannot catch up in time,
 * the answer is not known yet: 503 with {@code Retry-After}, never a wrong 404.
 *
 * <p>Only requests from outside are checked. The desired-state push starts from a twin's delta and is not.
 */
@ApplicationScoped
public class KnownThings {

    private static final Logger LOG = Logger.getLogger(KnownThings.class);

    private final RegisteredThingsView view;
    private final Duration wait;
    private final MeterRegistry metrics;

    @Inject
    public KnownThings(@Identifier("default-kafka-broker") Map<String, Object> kafka, ObjectMapper json,
            CommandConfig config, MeterRegistry metrics) {
        this(new RegisteredThingsView(kafka, Topics.DEVICES, json, e -> {
            metrics.counter("doppel.commands.status.rejected", "reason", "malformed-lifecycle-event").increment();
            LOG.warnf("skipped a malformed record on %s: %s", Topics.DEVICES, e.getClass().getSimpleName());
        }), config.knownThings().catchUpTimeout(), metrics);
    }

    KnownThings(RegisteredThingsView view, Duration wait, MeterRegistry metrics) {
        this.view = view;
        this.wait = wait;
        this.metrics = metrics;
        metrics.gauge("doppel.commands.registered.things", view, RegisteredThingsView::size);
    }

    void start(@Observes StartupEvent ev) {
        view.start();
    }

    void stop(@Observes ShutdownEvent ev) {
        view.close();
    }

    /** Whether the view has read the registry as it was when this instance started. */
    public boolean isCaughtUp() {
        return view.isCaughtUp();
    }

    public int size() {
        return view.size();
    }

    /** Completes when {@code thing} is a registered device; fails with a 404 or 503 problem otherwise. */
    public Uni<Void> require(ThingId thing) {
        String id = thing.toString();
        if (view.contains(id)) {
            return Uni.createFrom().voidItem();
        }
        long arrived = System.nanoTime();
        // Go on where the request was (its event loop), not on the view's or the Kafka admin client's thread.
        Executor resume = Vertx.currentContext() != null ? CallerContext.current() : Infrastructure.getDefaultExecutor();
        return Uni.createFrom().completionStage(() -> view.awaitLatest(arrived, wait))
                .ifNoItem().after(wait).fail()
                .emitOn(resume)
                .onFailure().transform(failure -> {
                    metrics.counter("doppel.commands.rejected", "reason", "registry-not-caught-up").increment();
                    LOG.debugf("registry view not caught up for %s: %s", id, failure.toString());
                    return new ProblemException(Problem.of("registry-not-caught-up", "Device registry not caught up",
                            503, "whether thing '" + id + "' is a registered device could not be told within "
                                    + wait.toMillis() + " ms: this instance's view of the device registry is behind; "
                                    + "retry",
                            null), wait);
                })
                .invoke(() -> {
                    if (!view.contains(id)) {
                        metrics.counter("doppel.commands.rejected", "reason", "unknown-thing").increment();
                        throw new ProblemException(Problem.of("thing-not-found", "Thing not found", 404,
                                "The thing with id '" + id + "' is not a registered device: register it in the "
                                        + "device registry before sending it commands.",
                                null));
                    }
                });
    }
}

package dev.doppel.twin.service;

import dev.doppel.contracts.ThingId;
import dev.doppel.support.vertx.CallerContext;
import dev.doppel.twin.messaging.TwinChangePublisher;
import dev.doppel.twin.model.Outbox;
import dev.doppel.twin.repository.TwinRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Finishes what a twin write owes ({@link Outbox}): publishes its change on {@code dt.twin-changes},
 * then appends its history. In that order, a history entry is proof that the change was published.
 *
 * <p>A process can die after the twin was written and before both are done; the redelivered report
 * then changes nothing, so nothing else would ever finish them. Therefore every writer first
 * {@linkplain #settle settles} the outbox it finds in the twin: if this instance delivered it, nothing
 * to do; otherwise one indexed read of the history tells whether the delivery finished, and if not it
 * is done now, with the change's original event id. Only then is the twin written again, so the
 * outbox of the twin's last write is the only one that can be unfinished, and changes are published
 * in revision order.
 *
 * <p>A writer that finds an outbox this instance is delivering at that moment waits for it. Two
 * instances may finish the same outbox (during a rebalance): the change is then published twice under
 * one event id (consumers are idempotent by event id) and the history keeps one entry, since its key
 * includes the change id. An outbox older than the tenant's history retention is left alone.
 */
@ApplicationScoped
public class ChangeDelivery {

    private static final Logger LOG = Logger.getLogger(ChangeDelivery.class);

    private final TwinHistory history;
    private final TwinChangePublisher publisher;
    private final Counter recovered;
    /** Thing id to the id of the last outbox this instance delivered; least recently used go first. */
    private final Map<String, String> delivered;
    /** Outbox id to the delivery of it this instance is making now. */
    private final Map<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    public ChangeDelivery(TwinHistory history, TwinChangePublisher publisher, MeterRegistry metrics,
            @ConfigProperty(name = "doppel.twin.outbox.remembered", defaultValue = "100000") int remembered) {
        this.history = history;
        this.publisher = publisher;
        this.recovered = Counter.builder("doppel.twin.changes.recovered")
                .description("Twin changes whose publication and history were finished after the writer stopped")
                .register(metrics);
        this.delivered = Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > remembered;
            }
        });
    }

    /** Publishes the change of a write just made, then appends its history. */
    public Uni<Void> deliver(Outbox outbox, Context trace) {
        return deliverAll(List.of(new Delivery(outbox, trace)));
    }

    /** A write's outbox and the trace its change continues. */
    public record Delivery(Outbox outbox, Context trace) {
    }

    /**
     * Publishes the changes of writes just made, all at once (each twin has one among them), then
     * appends their history with one insert: the history of a change is still written only after the
     * broker has it.
     */
    public Uni<Void> deliverAll(List<Delivery> deliveries) {
        if (deliveries.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<CompletableFuture<Void>> done = new ArrayList<>(deliveries.size());
        List<Uni<Void>> published = new ArrayList<>(deliveries.size());
        List<Outbox> outboxes = new ArrayList<>(deliveries.size());
        for (Delivery d : deliveries) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            inFlight.put(d.outbox().id(), f);
            done.add(f);
            outboxes.add(d.outbox());
            published.add(publisher.publish(d.outbox().change(), d.outbox().deltaUnchanged(), d.trace()));
        }
        Uni<Void> all = published.size() == 1 ? published.get(0)
                : Uni.join().all(published).andFailFast().replaceWithVoid();
        return all
                .chain(() -> history.append(outboxes))
                .invoke(() -> outboxes.forEach(o -> delivered.put(o.change().thingId(), o.id())))
                .onTermination().invoke((ok, failure, cancelled) -> {
                    for (int i = 0; i < outboxes.size(); i++) {
                        inFlight.remove(outboxes.get(i).id(), done.get(i));
                        if (failure == null && !cancelled) {
                            done.get(i).complete(null);
                        } else {
                            done.get(i).completeExceptionally(failure != null ? failure : new CancellationException());
                        }
                    }
                });
    }

    /** {@link #settle} for each twin of a batch read for a write, at once. */
    public Uni<Void> settleAll(Collection<TwinRepository.Stored> found) {
        List<Uni<Void>> settling = found.stream().filter(s -> s.outbox().isPresent())
                .map(s -> settle(s.outbox())).toList();
        return settling.isEmpty() ? Uni.createFrom().voidItem()
                : Uni.join().all(settling).andFailFast().replaceWithVoid();
    }

    /** Before a twin is written: finishes the delivery of its last write if that never completed. */
    public Uni<Void> settle(Optional<Outbox> pending) {
        if (pending.isEmpty() || isDelivered(pending.get())) {
            return Uni.createFrom().voidItem();
        }
        Outbox outbox = pending.get();
        CompletableFuture<Void> running = inFlight.get(outbox.id());
        if (running != null) {
            // This instance is delivering it right now (a concurrent writer of the same twin): wait for
            // that instead of publishing it a second time, possibly after the next change. The wait
            // ends on the other writer's thread; the caller goes on on its own (CallerContext).
            return Uni.createFrom().completionStage(running).onFailure().recoverWithNull()
                    .emitOn(CallerContext.current())
                    .chain(() -> isDelivered(outbox) ? Uni.createFrom().voidItem() : check(outbox));
        }
        return check(outbox);
    }

    private boolean isDelivered(Outbox outbox) {
        return outbox.id().equals(delivered.get(outbox.change().thingId()));
    }

    private Uni<Void> check(Outbox outbox) {
        String thingId = outbox.change().thingId();
        Duration retention = history.retention(ThingId.parse(thingId).tenant());
        if (outbox.change().modified().isBefore(Instant.now().minus(retention))) {
            // Older than the history keeps anything: its entries would be gone by now anyway, and its
            // change is long stale. Publishing it now would only bring back what retention removed.
            delivered.put(thingId, outbox.id());
            return Uni.createFrom().voidItem();
        }
        return history.contains(outbox).chain(done -> {
            if (done) {
                delivered.put(thingId, outbox.id());
                return Uni.createFrom().voidItem();
            }
            LOG.infof("finishing revision %d of %s: its writer stopped before publishing the change and "
                    + "appending the history", outbox.revision(), thingId);
            recovered.increment();
            return deliver(outbox, Context.root());
        });
    }
}

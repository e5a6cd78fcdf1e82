package dev.doppel.connectivity.mapping;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where custom (JSONata) mappings run: a few threads of their own, never a Vert.x event loop, so that a
 * mapping that takes its whole time limit holds up its own device and nobody else's (every MQTT
 * connection of an instance shares one event loop). Bounded: when as many evaluations wait as
 * {@code doppel.mapping.queue} allows, a further message is refused with {@code mapping-busy}
 * (counted in {@code doppel_mapping_busy_total}) instead of queueing without end.
 */
@ApplicationScoped
public class MappingPool {

    public static final String BUSY = "mapping-busy";

    private final ThreadPoolExecutor executor;

    public MappingPool(PayloadMappings.MappingConfig config, MeterRegistry metrics) {
        AtomicInteger n = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(config.threads(), config.threads(), 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(config.queue()), r -> {
                    Thread t = new Thread(r, "doppel-mapping-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, (r, pool) -> {
                    metrics.counter("doppel.mapping.busy").increment();
                    throw new RejectedExecutionException(BUSY);
                });
        metrics.gauge("doppel.mapping.queued", executor, e -> e.getQueue().size());
    }

    /**
     * Runs {@code mapper} on this pool once {@code after} has completed (however it did): a device's
     * messages are mapped in their order. Fails with a {@link MappingException}: the mapping's own, or
     * {@value #BUSY} when the pool is full.
     */
    public CompletableFuture<MappedReport> map(PayloadMappings.DeviceMapper mapper, byte[] payload, String contentType,
            String feature, String channel, CompletableFuture<?> after) {
        CompletableFuture<MappedReport> mapped = new CompletableFuture<>();
        after.whenComplete((ignored, failure) -> {
            try {
                executor.execute(() -> {
                    try {
                        mapped.complete(mapper.map(payload, contentType, feature, channel));
                    } catch (MappingException | RuntimeException e) {
                        mapped.completeExceptionally(e);
                    }
                });
            } catch (RejectedExecutionException e) {
                mapped.completeExceptionally(new MappingException(BUSY,
                        "too many mappings are waiting to run; send again later"));
            }
        });
        return mapped;
    }

    @PreDestroy
    void stop() {
        executor.shutdownNow();
    }
}

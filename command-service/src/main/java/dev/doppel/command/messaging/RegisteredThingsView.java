package dev.doppel.command.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.DeviceLifecycleChanged;
import dev.doppel.contracts.EventTypes;
import dev.doppel.support.messaging.EventRecords;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * One instance's complete view of the device registry: the ids of the things registered on the compacted
 * topic {@code dt.devices} ({@link DeviceLifecycleChanged}; {@code registered=false} or a tombstone removes).
 * A plain consumer without a group reads every partition from the beginning on a thread of its own, so
 * every instance holds the whole set and a restarted one rebuilds it.
 *
 * <p>A registration a moment old may not be in the view yet. {@link #awaitLatest} fetches the topic's end
 * offsets as they are now and completes once the view has read up to them: then an id that is not in the
 * view is not registered.
 */
public final class RegisteredThingsView implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RegisteredThingsView.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(10);

    private final String topic;
    private final ObjectMapper json;
    private final Consumer<Exception> malformed;
    private final Map<String, Object> consumerConfig;
    private final Admin admin;
    private final Set<String> registered = ConcurrentHashMap.newKeySet();
    /** Where the consumer stands in each partition it reads; written only by its thread. */
    private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();
    private final Queue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final AtomicReference<EndOffsets> lastFetch = new AtomicReference<>();
    private final Thread thread;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running = true;
    private volatile boolean caughtUp;
    /** A caller named a partition the consumer does not read yet (the topic has more partitions now). */
    private volatile boolean partitionsChanged;

    private record Waiter(Map<TopicPartition, Long> ends, CompletableFuture<Void> done, long deadline) {
    }

    private record EndOffsets(long startedAt, CompletableFuture<Map<TopicPartition, Long>> offsets) {
    }

    /**
     * @param kafka client settings shared by all Kafka clients of the service (bootstrap servers, security)
     * @param malformed counts and logs a record that cannot be read (it is skipped)
     */
    public RegisteredThingsView(Map<String, Object> kafka, String topic, ObjectMapper json,
            Consumer<Exception> malformed) {
        this.topic = topic;
        this.json = json;
        this.malformed = malformed;
        Map<String, Object> common = new HashMap<>(kafka);
        // Not client settings: Quarkus adds them to the shared map.
        common.remove(ConsumerConfig.GROUP_ID_CONFIG);
        common.remove("tls-configuration-name");
        String clientId = "registered-things-" + UUID.randomUUID();
        Map<String, Object> consumer = new HashMap<>(common);
        consumer.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumer.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // The registry's topic is made by the deployment (compacted); a consumer must not create a plain one.
        consumer.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        this.consumerConfig = consumer;
        Map<String, Object> admin = new HashMap<>(common);
        admin.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId + "-admin");
        this.admin = Admin.create(admin);
        this.thread = new Thread(this::run, "registered-things");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    public boolean contains(String thingId) {
        return registered.contains(thingId);
    }

    public int size() {
        return registered.size();
    }

    /** Whether the view has read what the topic held when it started (readiness). */
    public boolean isCaughtUp() {
        return caughtUp;
    }

    /**
     * Completes once the view has read everything the topic held at some moment after {@code notBefore}
     * ({@link System#nanoTime()}), or fails when that has not happened within {@code timeout}. Never blocks:
     * the end offsets come from the broker asynchronously and the view's thread completes the stage.
     */
    public CompletionStage<Void> awaitLatest(long notBefore, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        return endOffsets(notBefore).thenCompose(ends -> readUpTo(ends, deadline));
    }

    /**
     * The topic's end offsets, fetched after {@code notBefore}. Callers that arrive while a fetch started
     * after their arrival is under way share it, so a burst of misses costs the broker one request or two.
     */
    private CompletableFuture<Map<TopicPartition, Long>> endOffsets(long notBefore) {
        while (true) {
            EndOffsets last = lastFetch.get();
            if (last != null && last.startedAt() - notBefore >= 0 && !last.offsets().isCompletedExceptionally()) {
                return last.offsets();
            }
            EndOffsets mine = new EndOffsets(System.nanoTime(), new CompletableFuture<>());
            if (lastFetch.compareAndSet(last, mine)) {
                fetchEndOffsets().whenComplete((ends, failure) -> {
                    if (failure != null) {
                        mine.offsets().completeExceptionally(failure);
                    } else {
                        mine.offsets().complete(ends);
                    }
                });
                return mine.offsets();
            }
        }
    }

    private CompletionStage<Map<TopicPartition, Long>> fetchEndOffsets() {
        return admin.describeTopics(List.of(topic)).allTopicNames().toCompletionStage()
                .thenCompose(described -> admin.listOffsets(described.get(topic).partitions().stream()
                        .collect(Collectors.toMap(p -> new TopicPartition(topic, p.partition()),
                                p -> OffsetSpec.latest())))
                        .all().toCompletionStage())
                .thenApply(listed -> listed.entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset())))
                .exceptionally(failure -> {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    if (cause instanceof UnknownTopicOrPartitionException) {
                        return Map.of(); // no topic yet: nothing was ever registered
                    }
                    throw failure instanceof CompletionException c ? c : new CompletionException(cause);
                });
    }

    private CompletableFuture<Void> readUpTo(Map<TopicPartition, Long> ends, long deadline) {
        if (reached(ends)) {
            return CompletableFuture.completedFuture(null);
        }
        Waiter w = new Waiter(ends, new CompletableFuture<>(), deadline);
        waiters.add(w);
        if (!positions.keySet().containsAll(ends.keySet())) {
            partitionsChanged = true;
        }
        if (!running) {
            w.done().completeExceptionally(new IllegalStateException("the view is closed"));
        }
        return w.done();
    }

    private boolean reached(Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
            Long at = positions.get(e.getKey());
            if (at == null || at < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void run() {
        Map<TopicPartition, Long> startEnds = null;
        Set<TopicPartition> assigned = null;
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(consumerConfig)) {
            consumer = c;
            while (running) {
                try {
                    if (assigned == null || partitionsChanged) {
                        partitionsChanged = false;
                        try {
                            assigned = assign(c, assigned == null ? Set.of() : assigned);
                        } catch (RuntimeException e) {
                            partitionsChanged = true;
                            throw e;
                        }
                    }
                    if (startEnds == null) {
                        startEnds = c.endOffsets(assigned, METADATA_TIMEOUT);
                    }
                    if (assigned.isEmpty()) {
                        Thread.sleep(POLL); // no topic yet; a caller's miss makes it look again
                    } else {
                        for (ConsumerRecord<String, byte[]> r : c.poll(POLL)) {
                            apply(r);
                        }
                        // After the records are in the set: a caller who sees the position sees them too.
                        for (TopicPartition p : assigned) {
                            positions.put(p, c.position(p, METADATA_TIMEOUT));
                        }
                    }
                    if (!caughtUp && reached(startEnds)) {
                        caughtUp = true;
                        LOG.infof("registered things: %d, read from %s up to where it ended at start", size(), topic);
                    }
                    settleWaiters();
                } catch (WakeupException e) {
                    // close() woke the poll
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (RuntimeException e) {
                    // The broker is unreachable or the metadata timed out: keep what is known and try again.
                    LOG.warnf("reading %s: %s; retrying", topic, e.toString());
                    settleWaiters();
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        } finally {
            running = false;
            Waiter w;
            while ((w = waiters.poll()) != null) {
                w.done().completeExceptionally(new IllegalStateException("the view is closed"));
            }
        }
    }

    /** Reads every partition of the topic; those new to it from the beginning. */
    private Set<TopicPartition> assign(KafkaConsumer<String, byte[]> c, Set<TopicPartition> before) {
        List<PartitionInfo> infos = c.partitionsFor(topic, METADATA_TIMEOUT);
        Set<TopicPartition> all = new HashSet<>();
        for (PartitionInfo p : infos == null ? List.<PartitionInfo>of() : infos) {
            all.add(new TopicPartition(topic, p.partition()));
        }
        Set<TopicPartition> added = new HashSet<>(all);
        added.removeAll(before);
        if (!added.isEmpty()) {
            c.assign(all);
            c.seekToBeginning(added);
        }
        return all;
    }

    private void apply(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) {
            if (r.key() != null) {
                registered.remove(r.key()); // tombstone: the registry forgot the device
            }
            return;
        }
        DeviceLifecycleChanged change = EventRecords.read(r, EventTypes.DEVICE_LIFECYCLE_CHANGED,
                DeviceLifecycleChanged.class, json, malformed);
        if (change == null) {
            return;
        }
        String thingId = change.thingId() != null ? change.thingId() : r.key();
        if (thingId == null) {
            return;
        }
        if (change.registered()) {
            registered.add(thingId);
        } else {
            registered.remove(thingId);
        }
    }

    private void settleWaiters() {
        long now = System.nanoTime();
        waiters.removeIf(w -> {
            if (w.done().isDone()) {
                return true;
            }
            if (reached(w.ends())) {
                w.done().complete(null);
                return true;
            }
            if (now - w.deadline() >= 0) {
                w.done().completeExceptionally(new TimeoutException("the view did not reach " + w.ends()));
                return true;
            }
            return false;
        });
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(Duration.ofSeconds(5));
    }
}

package dev.doppel.twin.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.support.messaging.EventRecords;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Every twin change, from whichever replica made it: this instance reads {@code dt.twin-changes} in
 * a consumer group of its own and hands each change to the live streams (SSE, GraphQL subscriptions)
 * open here. It reads whole polls at once, and parses nothing while no stream is open: every report
 * that changes a twin comes by here, on every replica.
 */
@ApplicationScoped
public class LiveChanges {

    private static final Logger LOG = Logger.getLogger(LiveChanges.class);

    private final BroadcastProcessor<TwinChanged> changes = BroadcastProcessor.create();
    private final AtomicInteger open = new AtomicInteger();
    private final ObjectMapper json;

    public LiveChanges(ObjectMapper json) {
        this.json = json;
    }

    @Incoming("twin-changes-live")
    public void onChanges(ConsumerRecords<String, byte[]> records) {
        if (open.get() == 0) {
            return;
        }
        for (ConsumerRecord<String, byte[]> record : records) {
            TwinChanged change = EventRecords.read(record, EventTypes.TWIN_CHANGED, TwinChanged.class, json,
                    e -> LOG.warnf("skipped malformed twin change at partition %d offset %d", record.partition(),
                            record.offset()));
            if (change != null) {
                changes.onNext(change);
            }
        }
    }

    /** Changes from now on; a slow subscriber loses the oldest ones rather than holding the others back. */
    public Multi<TwinChanged> stream() {
        return changes.onOverflow().drop()
                .onSubscription().invoke(() -> open.incrementAndGet())
                .onTermination().invoke(() -> open.decrementAndGet());
    }
}

package dev.doppel.twin.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.EventTypes;
import dev.doppel.contracts.TwinChanged;
import dev.doppel.support.messaging.EventRecords;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Every twin change, from whichever replica made it: this instance reads {@code dt.twin-changes} in
 * a consumer group of its own and hands each change to the live streams (SSE) open here.
 */
@ApplicationScoped
public class LiveChanges {

    private static final Logger LOG = Logger.getLogger(LiveChanges.class);

    private final BroadcastProcessor<TwinChanged> changes = BroadcastProcessor.create();
    private final ObjectMapper json;

    public LiveChanges(ObjectMapper json) {
        this.json = json;
    }

    @Incoming("twin-changes-live")
    public void onChange(ConsumerRecord<String, byte[]> record) {
        TwinChanged change = EventRecords.read(record, EventTypes.TWIN_CHANGED, TwinChanged.class, json,
                e -> LOG.warnf("skipped malformed twin change at partition %d offset %d", record.partition(),
                        record.offset()));
        if (change != null) {
            changes.onNext(change);
        }
    }

    /** Changes from now on; a slow subscriber loses the oldest ones rather than holding the others back. */
    public Multi<TwinChanged> stream() {
        return changes.onOverflow().drop();
    }
}

package dev.doppel.connectivity.messaging;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * The partitions of {@code dt.commands} this instance owns, and for each where its log ended when it
 * got it. Records before that point may have been read already, by the partition's previous owner or
 * by this instance before a restart (their offsets were not committed yet), so their commands may have
 * reached their devices; records from that point on are read here for the first time.
 */
@ApplicationScoped
@Identifier(CommandPartitions.NAME)
public class CommandPartitions implements KafkaConsumerRebalanceListener {

    static final String NAME = "command-partitions";
    private static final Logger LOG = Logger.getLogger(CommandPartitions.class);

    private final Map<TopicPartition, Long> endWhenAssigned = new ConcurrentHashMap<>();

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        try {
            endWhenAssigned.putAll(consumer.endOffsets(partitions));
        } catch (RuntimeException e) {
            // Not known: every record of these partitions counts as possibly read before.
            LOG.warnf("could not read the end offsets of %s: %s", partitions, e.getMessage());
        }
    }

    @Override
    public void onPartitionsRevoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        partitions.forEach(endWhenAssigned::remove);
    }

    @Override
    public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        partitions.forEach(endWhenAssigned::remove);
    }

    /** Whether the record may have been read before this instance got its partition. */
    public boolean mayHaveBeenReadBefore(ConsumerRecord<?, ?> record) {
        Long end = endWhenAssigned.get(new TopicPartition(record.topic(), record.partition()));
        return end == null || record.offset() < end;
    }
}

package dev.doppel.devstack.testing;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.contracts.TelemetryReceived;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A plain Kafka client for tests and tools: writes events as another service would (CloudEvents
 * binary mode, JSON body) and reads what a service produced.
 */
public final class KafkaProbe implements AutoCloseable {

    public static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final String bootstrap;
    private KafkaProducer<String, byte[]> producer;

    public KafkaProbe(String bootstrap) {
        this.bootstrap = bootstrap;
    }

    /**
     * Sends {@code payload} as a CloudEvent in Kafka binary mode, with any {@code extra} headers, and
     * waits for the broker's acknowledgement.
     */
    public void sendEvent(String topic, String key, String type, String source, Object payload,
            RecordHeader... extra) {
        try {
            byte[] body = payload instanceof byte[] b ? b : JSON.writeValueAsBytes(payload);
            List<RecordHeader> headers = new ArrayList<>(List.of(
                    header("ce_specversion", "1.0"), header("ce_id", UUID.randomUUID().toString()),
                    header("ce_type", type), header("ce_source", source), header("ce_subject", key),
                    header("content-type", "application/json")));
            headers.addAll(List.of(extra));
            sendRaw(topic, key, body, headers);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A device's report as connectivity writes it (CloudEvents binary mode, keyed and subject by its
     * thing), from source {@code source}; for tools that send many with a producer of their own.
     */
    public static ProducerRecord<String, byte[]> report(String topic, TelemetryReceived report, String source) {
        try {
            return new ProducerRecord<>(topic, null, report.thingId(), JSON.writeValueAsBytes(report), new ArrayList<>(
                    List.of(header("ce_specversion", "1.0"), header("ce_id", report.eventId()),
                            header("ce_type", report.type()), header("ce_source", source),
                            header("ce_subject", report.thingId()))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void sendRaw(String topic, String key, byte[] body, List<RecordHeader> headers) {
        try {
            producer().send(new ProducerRecord<>(topic, null, key, body, new ArrayList<>(headers)))
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("send to " + topic + " failed", e);
        }
    }

    public static RecordHeader header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A consumer that sees records produced from now on (call before triggering them). It is given
     * every partition of the topic itself rather than joining a group: a test that does not poll for
     * longer than the group's poll interval (a long fuzz run) would be put out of the group, and on
     * rejoining it would start again at the end, past the records it was waiting for.
     */
    public KafkaConsumer<String, byte[]> subscribe(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p);
        List<TopicPartition> partitions = List.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (partitions.isEmpty() && System.nanoTime() < deadline) {
            partitions = c.partitionsFor(topic, Duration.ofSeconds(5)).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
        }
        if (partitions.isEmpty()) {
            c.close();
            throw new IllegalStateException("no partitions of " + topic + " found");
        }
        c.assign(partitions);
        c.seekToEnd(partitions);
        partitions.forEach(c::position);
        return c;
    }

    /** Polls until a record matches, or returns null after {@code timeout}. */
    public static ConsumerRecord<String, byte[]> await(KafkaConsumer<String, byte[]> consumer,
            Predicate<ConsumerRecord<String, byte[]>> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                if (match.test(r)) {
                    return r;
                }
            }
        }
        return null;
    }

    /** A control record that arrived (null: it did not), and the keys seen that were not allowed. */
    public record Control(ConsumerRecord<String, byte[]> record, List<String> strangers) {
    }

    /**
     * For the negative check of a hostile-input test: waits up to {@code timeout} for a record keyed
     * {@code control} (the positive control, sent last), then reads for {@code drain} more, and
     * returns it with every key seen on the way that is neither it nor among {@code allowed}.
     */
    public static Control awaitControl(KafkaConsumer<String, byte[]> consumer, String control,
            java.util.Set<String> allowed, Duration timeout, Duration drain) {
        return awaitControl(consumer, control, allowed, timeout, drain, r -> {
        });
    }

    /** {@link #awaitControl}, handing every record read on the way to {@code each} as well. */
    public static Control awaitControl(KafkaConsumer<String, byte[]> consumer, String control,
            java.util.Set<String> allowed, Duration timeout, Duration drain,
            java.util.function.Consumer<ConsumerRecord<String, byte[]>> each) {
        // Every record of every batch is looked at, the rest of the control's batch too.
        List<String> strangers = new ArrayList<>();
        ConsumerRecord<String, byte[]> found = null;
        boolean draining = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                each.accept(r);
                if (r.key().equals(control)) {
                    found = found == null ? r : found;
                } else if (!allowed.contains(r.key())) {
                    strangers.add(r.key());
                }
            }
            if (found != null && !draining) {
                draining = true;
                deadline = System.nanoTime() + drain.toNanos(); // then read for the drain only
            }
        }
        return new Control(found, strangers);
    }

    /**
     * How many records of {@code topic} the consumer group {@code group} has not committed yet (every
     * record produced so far, for a group that has committed nothing).
     */
    public long uncommitted(String group, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(topic).partitions().stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            var ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
            long behind = 0;
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata c = committed.get(tp);
                behind += ends.get(tp).offset() - (c == null ? 0 : c.offset());
            }
            return behind;
        } catch (Exception e) {
            throw new IllegalStateException("offsets of " + group + " on " + topic + " unknown", e);
        }
    }

    public static String header(ConsumerRecord<?, ?> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    public static <T> T read(ConsumerRecord<String, byte[]> r, Class<T> type) {
        try {
            return JSON.readValue(r.value(), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private synchronized KafkaProducer<String, byte[]> producer() {
        if (producer == null) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            producer = new KafkaProducer<>(p);
        }
        return producer;
    }

    @Override
    public void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }
}

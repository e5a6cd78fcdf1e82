package dev.doppel.support.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Reading the project's events from Kafka records (CloudEvents in binary mode: the type in the
 * {@code ce_type} header, the JSON payload as the value), the same way in every consumer.
 */
public final class EventRecords {

    private EventRecords() {
    }

    /** The record's CloudEvents type, or null when it has none. */
    public static String type(ConsumerRecord<?, byte[]> record) {
        return header(record, "ce_type");
    }

    /** A header's last value as text, or null when the record has none. */
    public static String header(ConsumerRecord<?, ?> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /**
     * Reads a record of the given type. Returns null for a record of another type, which consumers skip
     * (they ignore types they do not know), and null for a malformed one after handing the error to
     * {@code malformed}, which counts and logs it (without the payload).
     */
    public static <T> T read(ConsumerRecord<?, byte[]> record, String type, Class<T> payloadType, ObjectMapper json,
            Consumer<Exception> malformed) {
        if (!type.equals(type(record))) {
            return null;
        }
        try {
            return json.readValue(record.value(), payloadType);
        } catch (java.io.IOException | RuntimeException e) {
            malformed.accept(e);
            return null;
        }
    }
}

package dev.doppel.support.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class EventRecordsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ConsumerRecord<String, byte[]> record(String type, String body) {
        ConsumerRecord<String, byte[]> r = new ConsumerRecord<>("t", 0, 7, "k", body.getBytes(StandardCharsets.UTF_8));
        if (type != null) {
            r.headers().add("ce_type", type.getBytes(StandardCharsets.UTF_8));
        }
        return r;
    }

    @Test
    void readsItsTypeSkipsOthersAndReportsMalformedOnes() {
        List<Exception> malformed = new ArrayList<>();
        assertEquals(Map.of("a", 1), EventRecords.read(record("x.v1", "{\"a\":1}"), "x.v1", Map.class, JSON,
                malformed::add));
        assertNull(EventRecords.read(record("y.v1", "{\"a\":1}"), "x.v1", Map.class, JSON, malformed::add));
        assertNull(EventRecords.read(record(null, "{\"a\":1}"), "x.v1", Map.class, JSON, malformed::add));
        assertEquals(0, malformed.size(), "another type is skipped, not an error");
        assertNull(EventRecords.read(record("x.v1", "{\"a\":"), "x.v1", Map.class, JSON, malformed::add));
        assertEquals(1, malformed.size());
        assertEquals("x.v1", EventRecords.type(record("x.v1", "{}")));
    }
}

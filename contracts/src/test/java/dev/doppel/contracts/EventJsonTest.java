package dev.doppel.contracts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The records are the wire format: they must survive a JSON round trip as the services' Jackson does it. */
class EventJsonTest {

    private final ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    @Test
    void telemetryRoundTripKeepsValuesAndMicrosecondTime() throws Exception {
        Instant t = Instant.parse("2026-11-22T10:15:30.123456Z");
        TelemetryReceived in = TelemetryReceived.of("e1", ThingId.parse("demo:s1"), "telemetry",
                Map.of("telemetry", Map.of("temperature", 21.5)), null, t, "mqtt");
        String text = json.writeValueAsString(in);
        TelemetryReceived out = json.readValue(text, TelemetryReceived.class);
        assertEquals(in, out);
        assertEquals(EventTypes.TELEMETRY_RECEIVED, out.type());
    }

    @Test
    void commandPayloadTravelsAsBase64Bytes() throws Exception {
        byte[] payload = "{\"on\":true}".getBytes(StandardCharsets.UTF_8);
        CommandRequested in = new CommandRequested("c1", "demo:s1", "switch", "application/json", payload, true,
                Instant.now(), Instant.now().plusSeconds(5), null);
        CommandRequested out = json.readValue(json.writeValueAsString(in), CommandRequested.class);
        assertArrayEquals(payload, out.payload());
        assertEquals("c1", out.eventId());
    }

    @Test
    void aTwinRoomSaysWhetherItIsOpenAndCarriesOnlyItsFields() throws Exception {
        TwinRoom full = new TwinRoom("r1", "demo:s1", 120, java.util.List.of("owner"),
                Map.of("telemetry", java.util.List.of("temperature")), Instant.parse("2026-12-07T10:00:00Z"));
        String text = json.writeValueAsString(full);
        assertEquals(full, json.readValue(text, TwinRoom.class));
        assertEquals(false, full.open());
        assertEquals(false, text.contains("\"open\""), text);
        TwinRoom open = json.readValue("{\"eventId\":\"r2\",\"thingId\":\"demo:s1\",\"room\":200000,"
                + "\"at\":\"2026-12-07T10:00:00Z\"}", TwinRoom.class);
        assertEquals(true, open.open());
    }
}

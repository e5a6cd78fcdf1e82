package dev.doppel.connectivity.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DefaultPayloadMapperTest {

    private final DefaultPayloadMapper mapper = new DefaultPayloadMapper(new ObjectMapper());

    private MappedReport map(String json, String feature) throws MappingException {
        return mapper.map(json.getBytes(StandardCharsets.UTF_8), null, feature);
    }

    @Test
    void objectMembersBecomePropertiesOfTheNamedOrDefaultFeature() throws Exception {
        assertEquals(Map.of("telemetry", Map.of("temperature", 21.5)), map("{\"temperature\":21.5}", null).features());
        assertEquals(Map.of("power", Map.of("kw", 3)), map("{\"kw\":3}", "power").features());
    }

    @Test
    void dittoPartialTwinMapsAsItStands() throws Exception {
        MappedReport r = map("{\"features\":{\"meter\":{\"properties\":{\"kwh\":12.5}}},\"attributes\":{\"site\":\"x\"}}",
                null);
        assertEquals(Map.of("meter", Map.of("kwh", 12.5)), r.features());
        assertEquals(Map.of("site", "x"), r.attributes());
    }

    @Test
    void badPayloadsAreRefusedWithAStableReason() throws MappingException {
        assertEquals("malformed-json", assertThrows(MappingException.class, () -> map("{\"t\":", null)).reason());
        assertEquals("not-an-object", assertThrows(MappingException.class, () -> map("[1,2]", null)).reason());
        assertEquals("not-an-object", assertThrows(MappingException.class, () -> map("42", null)).reason());
        assertEquals("invalid-key", assertThrows(MappingException.class, () -> map("{\"$set\":1}", null)).reason());
        assertEquals("invalid-key", assertThrows(MappingException.class, () -> map("{\"a\":{\"b.c\":1}}", null)).reason());
        assertEquals("unsupported-content-type", assertThrows(MappingException.class, () -> mapper.map(
                "hot".getBytes(StandardCharsets.UTF_8), "text/plain", null)).reason());
        assertEquals(Map.of("telemetry", Map.of("t", 1)), mapper.map("{\"t\":1}".getBytes(StandardCharsets.UTF_8),
                "application/vnd.acme+json; charset=utf-8", null).features());
        assertEquals("invalid-key", assertThrows(MappingException.class, () -> map("{\"a\":1}", "x/y")).reason());
    }
}

package dev.doppel.connectivity.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MqttTopicTest {

    @Test
    void honoReportTopicsInLongShortAndExplicitForms() {
        assertEquals(new MqttTopic.Report("telemetry", "", "", Map.of()), MqttTopic.parse("telemetry"));
        assertEquals(new MqttTopic.Report("telemetry", "", "", Map.of()), MqttTopic.parse("t"));
        assertEquals(new MqttTopic.Report("event", "", "", Map.of()), MqttTopic.parse("e"));
        assertEquals(new MqttTopic.Report("telemetry", "demo", "s1", Map.of()), MqttTopic.parse("telemetry/demo/s1"));
        assertEquals(new MqttTopic.Report("telemetry", "", "", Map.of("feature", "power", "content-type",
                "application/json")), MqttTopic.parse("telemetry/?feature=power&content-type=application%2Fjson"));
    }

    @Test
    void commandResponses() {
        assertEquals(new MqttTopic.CommandResponse("abc", 200), MqttTopic.parse("command///res/abc/200"));
        assertEquals(new MqttTopic.CommandResponse("abc", 503), MqttTopic.parse("c///s/abc/503"));
        assertNull(MqttTopic.parse("command///res/abc/99"));
        assertNull(MqttTopic.parse("command///res//200"));
        assertNull(MqttTopic.parse("command///res/abc/ok"));
    }

    @Test
    void everythingElseIsRefused() {
        for (String t : new String[] {"", "foo", "telemetry/a/b/c", "telemetry/a", "command///req/x/y", "$SYS/x",
                "telemetry/?novalue", "c///q/#"}) {
            assertNull(MqttTopic.parse(t), t);
        }
    }

    @Test
    void commandTopicsForBothSubscriptionForms() {
        assertEquals("command///req/id1/switch", MqttTopic.CommandFilter.LONG.topic("id1", "switch"));
        assertEquals("c///q//switch", MqttTopic.CommandFilter.SHORT.topic(null, "switch"));
        assertInstanceOf(MqttTopic.CommandFilter.class, MqttTopic.CommandFilter.of("command///req/#"));
        assertNull(MqttTopic.CommandFilter.of("#"));
    }
}

package dev.doppel.connectivity.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
        assertEquals(new MqttTopic.CommandResponse("", "abc", 200), MqttTopic.parse("command///res/abc/200"));
        assertEquals(new MqttTopic.CommandResponse("", "abc", 503), MqttTopic.parse("c///s/abc/503"));
        // A gateway answers for one of its devices.
        assertEquals(new MqttTopic.CommandResponse("dev-1", "abc", 200), MqttTopic.parse("command//dev-1/res/abc/200"));
        assertEquals(new MqttTopic.CommandResponse("dev-1", "abc", 404), MqttTopic.parse("c//dev-1/s/abc/404"));
        assertNull(MqttTopic.parse("command/demo/dev-1/res/abc/200"));
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
    void commandSubscriptionsOfADeviceAndOfAGateway() {
        MqttTopic.CommandSubscription own = MqttTopic.CommandSubscription.parse("command///req/#");
        assertEquals(new MqttTopic.CommandSubscription(false, ""), own);
        assertTrue(own.own());
        assertEquals("command///req/id1/switch", own.topic(null, "id1", "switch"));
        MqttTopic.CommandSubscription ownShort = MqttTopic.CommandSubscription.parse("c///q/#");
        assertEquals("c///q//switch", ownShort.topic(null, null, "switch"));

        MqttTopic.CommandSubscription all = MqttTopic.CommandSubscription.parse("command//+/req/#");
        assertTrue(all.all());
        assertEquals("command//dev-1/req/id1/switch", all.topic("dev-1", "id1", "switch"));
        assertEquals("c//dev-1/q/id1/switch", MqttTopic.CommandSubscription.parse("c//+/q/#")
                .topic("dev-1", "id1", "switch"));
        MqttTopic.CommandSubscription one = MqttTopic.CommandSubscription.parse("command//dev-1/req/#");
        assertEquals("dev-1", one.deviceId());
        assertEquals("command//dev-1/req/#", one.filter());

        for (String f : new String[] {"#", "command/#", "command//+/res/#", "command/demo//req/#", "c//+/req/#",
                "command//a+b/req/#", "command//#/req/#", "command///req/+"}) {
            assertNull(MqttTopic.CommandSubscription.parse(f), f);
        }
    }
}

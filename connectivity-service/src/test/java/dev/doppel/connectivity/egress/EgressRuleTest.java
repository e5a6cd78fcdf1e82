package dev.doppel.connectivity.egress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EgressRuleTest {

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void rangesAndPortsMatchWhatTheyName() throws Exception {
        EgressRule range = EgressRule.parse("10.20.0.0/16:502");
        assertTrue(range.allows("10.20.3.4", ip("10.20.3.4"), 502));
        assertFalse(range.allows("10.20.3.4", ip("10.20.3.4"), 503), "another port");
        assertFalse(range.allows("10.21.0.1", ip("10.21.0.1"), 502), "outside the range");
        EgressRule odd = EgressRule.parse("192.168.1.128/25");
        assertTrue(odd.allows("192.168.1.200", ip("192.168.1.200"), 1));
        assertFalse(odd.allows("192.168.1.100", ip("192.168.1.100"), 1));
        EgressRule v6 = EgressRule.parse("[fd00::/8]:1883");
        assertTrue(v6.allows("fd12::1", ip("fd12::1"), 1883));
        assertFalse(v6.allows("10.0.0.1", ip("10.0.0.1"), 1883), "IPv4 against an IPv6 range");
    }

    @Test
    void namesMatchTheNameGivenNotWhatItResolvesTo() throws Exception {
        EgressRule exact = EgressRule.parse("Broker.Plant.example:8883");
        assertTrue(exact.allows("broker.plant.example", ip("10.0.0.9"), 8883));
        assertFalse(exact.allows("evil.example", ip("10.0.0.9"), 8883));
        EgressRule suffix = EgressRule.parse("*.plc.plant.example");
        assertTrue(suffix.allows("m-7.plc.plant.example", ip("10.0.0.7"), 502));
        assertFalse(suffix.allows("plc.plant.example.evil.example", ip("10.0.0.7"), 502));
        assertFalse(suffix.allows("xplc.plant.example", ip("10.0.0.7"), 502));
    }

    @Test
    void malformedEntriesAreRefusedWithoutLookingAnythingUp() {
        for (String bad : new String[] {"", " ", "10.0.0.0/33", "300.1.1.1", "10.0.0.1:0", "10.0.0.1:70000",
                "host:port", "a b", "[fd00::", "http://x", "-x.example", "x".repeat(256)}) {
            assertThrows(IllegalArgumentException.class, () -> EgressRule.parse(bad), bad);
        }
    }

    private static EgressPolicy policy(boolean loopback) {
        return new EgressPolicy(null, null, loopback, Optional.of(List.of("127.0.0.1:9411", "10.9.9.9")),
                Optional.of("127.0.0.1:9092,kafka-1.internal:9093"), Optional.of("mongodb://u:p@127.0.0.1:27017/db"),
                Optional.of("http://127.0.0.1:8180/realms/twin"), 8083, 1883, 5683, 5684);
    }

    @Test
    void thePlatformsOwnEndpointsAreRefusedWhateverTheListSays() throws Exception {
        EgressPolicy policy = policy(true);
        List<EgressRule> all = List.of(EgressRule.parse("0.0.0.0/0"));
        for (int port : new int[] {9092, 27017, 8180, 8083, 1883, 9411}) {
            assertThrows(EgressRefused.class, () -> policy.decide("t", "127.0.0.1", port,
                    new InetAddress[] {ip("127.0.0.1")}, all), "port " + port);
        }
        assertThrows(EgressRefused.class, () -> policy.decide("t", "10.9.9.9", 22,
                new InetAddress[] {ip("10.9.9.9")}, all), "a platform host listed without a port: every port");
        assertThrows(EgressRefused.class, () -> policy.decide("t", "metadata", 80,
                new InetAddress[] {ip("169.254.169.254")}, all), "cloud metadata");
        // The positive control: the same list lets other destinations through.
        assertEquals(ip("127.0.0.1"), policy.decide("t", "localhost", 15020, new InetAddress[] {ip("127.0.0.1")}, all));
        assertEquals(ip("10.1.1.1"), policy.decide("t", "plc", 502, new InetAddress[] {ip("10.1.1.1")}, all));
    }

    @Test
    void aNameIsAllowedOnlyIfEveryAddressItResolvesToIs() throws Exception {
        EgressPolicy policy = policy(false);
        List<EgressRule> rules = List.of(EgressRule.parse("10.1.0.0/16"));
        assertEquals(ip("10.1.0.5"), policy.decide("t", "plc", 502, new InetAddress[] {ip("10.1.0.5")}, rules));
        assertThrows(EgressRefused.class, () -> policy.decide("t", "plc", 502,
                new InetAddress[] {ip("10.1.0.5"), ip("10.2.0.5")}, rules));
        assertThrows(EgressRefused.class, () -> policy.decide("t", "plc", 502, new InetAddress[] {ip("10.3.0.5")}, rules));
        assertThrows(EgressRefused.class, () -> policy.decide("t", "localhost", 15020,
                new InetAddress[] {ip("127.0.0.1")}, List.of(EgressRule.parse("127.0.0.0/8"))),
                "loopback outside the local run, even when listed");
    }
}

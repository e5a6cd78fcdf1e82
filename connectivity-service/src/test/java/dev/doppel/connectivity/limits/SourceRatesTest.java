package dev.doppel.connectivity.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.config.SourceLimitsConfig;
import dev.doppel.connectivity.limits.SourceRates.Limit;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SourceRatesTest {

    /** One connect and one password check per hour after a burst of three, so nothing refills during a test. */
    private static SourceLimitsConfig config(String... trusted) {
        return new SourceLimitsConfig() {
            public double connectsPerSecond() {
                return 1.0 / 3600;
            }

            public int connectsBurst() {
                return 3;
            }

            public double passwordChecksPerSecond() {
                return 1.0 / 3600;
            }

            public int passwordChecksBurst() {
                return 3;
            }

            public Optional<List<String>> trusted() {
                return Optional.of(List.of(trusted));
            }
        };
    }

    @Test
    void aSourceGetsItsBurstThenIsRefusedWhileOthersAreNot() {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        SourceRates rates = new SourceRates(config(), metrics);
        for (int i = 0; i < 3; i++) {
            assertTrue(rates.admit("203.0.113.7", Limit.CONNECT), "connect " + i + " within the burst");
        }
        assertFalse(rates.admit("203.0.113.7", Limit.CONNECT), "the fourth connect at once");
        assertTrue(rates.admit("203.0.113.8", Limit.CONNECT), "another address has its own allowance");
        assertTrue(rates.admit("203.0.113.7", Limit.PASSWORD_CHECK), "password checks are a separate allowance");
        assertEquals(1.0, metrics.counter("doppel.logins.limited", "limit", "connects").count());
    }

    @Test
    void trustedAddressesAreNotLimited() {
        SourceRates rates = new SourceRates(config("127.0.0.1"), new SimpleMeterRegistry());
        for (int i = 0; i < 10; i++) {
            assertTrue(rates.admit("127.0.0.1", Limit.CONNECT));
        }
        for (int i = 0; i < 3; i++) {
            rates.admit("127.0.0.2", Limit.CONNECT);
        }
        assertFalse(rates.admit("127.0.0.2", Limit.CONNECT), "only the address written is trusted");
    }

    @Test
    void anIpv6SourceCountsByItsSlash64() {
        SourceRates rates = new SourceRates(config(), new SimpleMeterRegistry());
        for (int i = 1; i <= 3; i++) {
            assertTrue(rates.admit("2001:db8:1:2::" + i, Limit.CONNECT));
        }
        assertFalse(rates.admit("2001:db8:1:2:ffff::99", Limit.CONNECT), "a fresh address in the same /64");
        assertTrue(rates.admit("2001:db8:1:3::1", Limit.CONNECT), "the next /64");
        assertEquals("2001:db8:1:2::/64", SourceRates.key("2001:0db8:0001:0002:0000:0000:0000:0005"));
        assertEquals("192.0.2.1", SourceRates.key("::ffff:192.0.2.1"), "an IPv4-mapped address counts as IPv4");
    }

    @Test
    void quietSourcesAreForgottenAndBusyOnesKept() {
        SourceRates rates = new SourceRates(config(), new SimpleMeterRegistry());
        rates.admit("198.51.100.1", Limit.CONNECT);
        assertEquals(1, rates.tracked());
        rates.forgetQuiet();
        assertEquals(1, rates.tracked(), "a bucket that has not refilled still limits its source");
    }
}

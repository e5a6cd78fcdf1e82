package dev.doppel.connectivity.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {

    /** A clock the test moves. */
    private static final class Hands extends Clock {
        Instant now = Instant.parse("2026-12-06T12:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private static final String GUESSER = LoginThrottle.key("demo/sensor-1", "203.0.113.9");
    private static final String DEVICE = LoginThrottle.key("demo/sensor-1", "198.51.100.7");

    @Test
    void parallelGuessesShareTheFreeAttemptsInsteadOfAllPassingTheCheck() {
        LoginThrottle throttle = new LoginThrottle(new Hands(), 100);
        int admitted = 0;
        for (int i = 0; i < 50; i++) {
            if (throttle.begin(GUESSER)) {
                admitted++;
            }
        }
        assertEquals(LoginThrottle.FREE_ATTEMPTS, admitted);
    }

    @Test
    void afterTheFreeAttemptsTheLoginIsBlockedThenTriedOneAtATime() {
        Hands clock = new Hands();
        LoginThrottle throttle = new LoginThrottle(clock, 100);
        for (int i = 0; i < LoginThrottle.FREE_ATTEMPTS; i++) {
            assertTrue(throttle.begin(GUESSER));
            throttle.failed(GUESSER);
        }
        assertFalse(throttle.begin(GUESSER), "blocked after five failures");
        clock.now = clock.now.plus(Duration.ofMillis(1100));
        assertTrue(throttle.begin(GUESSER), "the block of one second is over");
        assertFalse(throttle.begin(GUESSER), "while that attempt is checked, no second one");
        throttle.succeeded(GUESSER);
        assertTrue(throttle.begin(GUESSER), "a success clears the record");
    }

    @Test
    void failuresFromOneAddressDoNotBlockTheSameLoginFromAnother() {
        LoginThrottle throttle = new LoginThrottle(new Hands(), 100);
        for (int i = 0; i < 20; i++) {
            if (throttle.begin(GUESSER)) {
                throttle.failed(GUESSER);
            }
        }
        assertFalse(throttle.begin(GUESSER));
        assertTrue(throttle.begin(DEVICE));
    }

    @Test
    void aFloodOfMadeUpLoginsKeepsAtMostTheBoundAndAnAbandonedAttemptFreesItsReservation() {
        LoginThrottle throttle = new LoginThrottle(new Hands(), 100);
        for (int i = 0; i < 10_000; i++) {
            String key = LoginThrottle.key("demo/made-up-" + i, "203.0.113.9");
            throttle.begin(key);
            throttle.failed(key);
        }
        assertEquals(100, throttle.tracked());
        for (int i = 0; i < 20; i++) {
            assertTrue(throttle.begin(DEVICE));
            throttle.abandoned(DEVICE);
        }
    }
}

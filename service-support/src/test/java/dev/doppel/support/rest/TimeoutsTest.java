package dev.doppel.support.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TimeoutsTest {

    private static final Duration MAX = Duration.ofSeconds(60);

    @Test
    void dittoFormats() {
        assertEquals(Duration.ofSeconds(10), Timeouts.parse(null, Duration.ofSeconds(10), MAX));
        assertEquals(Duration.ofSeconds(5), Timeouts.parse("5", null, MAX));
        assertEquals(Duration.ofSeconds(5), Timeouts.parse("5s", null, MAX));
        assertEquals(Duration.ofMillis(250), Timeouts.parse("250ms", null, MAX));
        assertEquals(Duration.ofMinutes(1), Timeouts.parse("1m", null, MAX));
        assertEquals(Duration.ZERO, Timeouts.parse("0", null, MAX));
    }

    @Test
    void rejectsGarbageAndTooLong() {
        for (String bad : new String[] {"abc", "-1", "5h", "1.5s", "61s", "2m"}) {
            ProblemException e = assertThrows(ProblemException.class, () -> Timeouts.parse(bad, null, MAX), bad);
            assertEquals(400, e.problem().status());
        }
    }
}

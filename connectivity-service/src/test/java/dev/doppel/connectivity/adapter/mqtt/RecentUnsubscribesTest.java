package dev.doppel.connectivity.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RecentUnsubscribesTest {

    @Test
    void aSubscribeAnsweredLaterSeesAnUnsubscribeOfItsFilterOnly() {
        RecentUnsubscribes u = new RecentUnsubscribes();
        u.unsubscribed("command//a/req/#");
        long asOf = u.now();
        assertFalse(u.since("command//a/req/#", asOf), "unsubscribed before the subscribe started");
        u.unsubscribed("command//b/req/#");
        assertTrue(u.since("command//b/req/#", asOf));
        assertFalse(u.since("command//a/req/#", asOf));
    }

    @Test
    void endlesslyNewFiltersAreNotKeptWithoutBound() {
        RecentUnsubscribes u = new RecentUnsubscribes();
        long early = u.now();
        for (int i = 0; i < 100_000; i++) {
            u.unsubscribed("command//d-" + i + "/req/#");
            assertTrue(u.kept() <= RecentUnsubscribes.KEPT, "kept " + u.kept());
        }
        // A subscribe that started before the filters were forgotten cannot be sure: taken as unsubscribed.
        assertTrue(u.since("command//d-5/req/#", early));
        // One that starts now is judged on what comes after it.
        long late = u.now();
        assertFalse(u.since("command//d-5/req/#", late));
        u.unsubscribed("command//d-5/req/#");
        assertTrue(u.since("command//d-5/req/#", late));
    }
}

package dev.doppel.support.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.doppel.contracts.Problem;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProblemMappersTest {

    private static final Problem BUSY = Problem.of("busy", "Busy", 503, "try later", "/api/x");

    @Test
    void aProblemThatPassesSaysWhenToRetryInWholeSecondsRoundedUp() {
        Response r = new ProblemMappers().problem(new ProblemException(BUSY, Duration.ofMillis(4200)), null);
        assertEquals(503, r.getStatus());
        assertEquals("5", r.getHeaderString("Retry-After"));
        assertEquals(Problem.MEDIA_TYPE, r.getMediaType().toString());
        assertEquals("1", new ProblemMappers().problem(new ProblemException(BUSY, Duration.ofMillis(10)), null)
                .getHeaderString("Retry-After"));
    }

    @Test
    void otherProblemsHaveNoRetryAfter() {
        assertNull(new ProblemMappers().problem(new ProblemException(BUSY), null).getHeaderString("Retry-After"));
    }

    @Test
    void aQueryTheStoreStoppedIsAProblemNotAnInternalError() {
        Response r = new ProblemMappers().queryTimeout(new com.mongodb.MongoExecutionTimeoutException(50,
                "operation exceeded time limit"), null);
        assertEquals(503, r.getStatus());
        assertEquals(Problem.MEDIA_TYPE, r.getMediaType().toString());
        assertEquals(Problem.of("query-timeout", "", 503, "", null).type(), ((Problem) r.getEntity()).type());
    }
}

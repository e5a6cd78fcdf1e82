package dev.doppel.support.security;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BearerSyntaxTest {

    @Test
    void onlyThreeBase64UrlPartsPass() {
        assertTrue(BearerSyntax.shapedLikeJws("Bearer eyJh.eyJz.c2ln"));
        assertTrue(BearerSyntax.shapedLikeJws("Bearer  a-b_c.d.  "));
        assertTrue(BearerSyntax.shapedLikeJws("bearer a.b."));
        for (String bad : new String[] {"Bearer ", "Bearer ..", "Bearer a..c", "Bearer .b.c", "Bearer a.b",
                "Bearer a.b.c.d", "Bearer a.b.c=", "Bearer a b.c.d", "Bearer a.b.\u00e9"}) {
            assertFalse(BearerSyntax.shapedLikeJws(bad), bad);
        }
    }
}

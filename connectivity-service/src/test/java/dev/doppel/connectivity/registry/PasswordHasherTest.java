package dev.doppel.connectivity.registry;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PasswordHasherTest {

    @Test
    void verifiesTheRightPasswordOnlyAndSaltsEachHash() {
        PasswordHasher.Hash a = PasswordHasher.hash("demo-secret", 1000);
        PasswordHasher.Hash b = PasswordHasher.hash("demo-secret", 1000);
        assertTrue(PasswordHasher.verify("demo-secret", a));
        assertFalse(PasswordHasher.verify("demo-secreT", a));
        assertFalse(PasswordHasher.verify("", a));
        assertNotEquals(a.hash(), b.hash());
        assertFalse(a.hash().contains("demo-secret"));
    }
}

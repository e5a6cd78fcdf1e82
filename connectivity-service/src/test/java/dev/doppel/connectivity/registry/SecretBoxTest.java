package dev.doppel.connectivity.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.config.SecretsConfig;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SecretBoxTest {

    private static final String OLD = Base64.getEncoder().encodeToString(new byte[32]);
    private static final String NEW = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef"
            .getBytes(StandardCharsets.US_ASCII));

    private static SecretBox box(String key, String... old) {
        return new SecretBox(new SecretsConfig() {
            @Override
            public Optional<String> key() {
                return Optional.ofNullable(key);
            }

            @Override
            public Optional<List<String>> oldKeys() {
                return Optional.of(List.of(old));
            }
        });
    }

    @Test
    void aSecretOpensForItsRecordOnlyAndSealsDifferentlyEachTime() {
        SecretBox box = box(NEW);
        String sealed = box.seal("broker-password", "demo/plant");
        assertFalse(sealed.contains("broker-password"));
        assertNotEquals(sealed, box.seal("broker-password", "demo/plant"));
        assertEquals("broker-password", box.openString(sealed, "demo/plant"));
        assertThrows(IllegalStateException.class, () -> box.open(sealed, "demo/other"));
        String altered = sealed.substring(0, sealed.length() - 4) + (sealed.endsWith("AAAA") ? "BBBB" : "AAAA");
        assertThrows(IllegalStateException.class, () -> box.open(altered, "demo/plant"));
    }

    @Test
    void duringARotationOldKeysStillOpenWhatTheySealedAndOnlyTheNewKeySeals() {
        String sealedBefore = box(OLD).seal(new byte[] {1, 2, 3}, "r");
        SecretBox rotating = box(NEW, OLD);
        assertArrayEquals(new byte[] {1, 2, 3}, rotating.open(sealedBefore, "r"));
        assertFalse(rotating.isCurrent(sealedBefore));
        assertTrue(rotating.isCurrent(rotating.seal(new byte[] {1}, "r")));
        // Once the old key is gone, what it sealed and was not sealed again does not open.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> box(NEW).open(sealedBefore, "r"));
        assertTrue(e.getMessage().contains("old-keys"), e.getMessage());
    }

    @Test
    void withoutAKeyOrWithAWrongOneTheServiceDoesNotStart() {
        assertTrue(assertThrows(IllegalStateException.class, () -> box(null)).getMessage().contains("doppel.secrets.key"));
        assertTrue(assertThrows(IllegalStateException.class, () -> box("c2hvcnQ=")).getMessage().contains("32"));
        assertThrows(IllegalStateException.class, () -> box("not base64!"));
    }
}

package dev.doppel.connectivity.registry;

import dev.doppel.support.memory.BoundedEntries;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Passwords lately found to match a stored hash, so that a device that logs in again (an HTTP device
 * sends its password with every request) does not cost a full PBKDF2 each time. An entry names the
 * stored hash it matched: a changed credential (new hash or salt) no longer matches it, so a password
 * change counts at once. Only successes are kept; wrong passwords always cost the full check.
 * Entries are HMACs under a key that lives only in this process's memory, never the password.
 */
final class VerifiedPasswords {

    private final Duration keptFor;
    private final Clock clock;
    private final byte[] key = new byte[32];
    private final Map<String, Instant> entries = new ConcurrentHashMap<>();
    /** One initialised Mac per thread: looking one up and keying it costs more than the HMAC itself. */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    VerifiedPasswords(Duration keptFor, Clock clock) {
        this.keptFor = keptFor;
        this.clock = clock;
        new SecureRandom().nextBytes(key);
    }

    /** Whether this password matched these stored hashes lately. */
    boolean matchedLately(String storedHashes, String password) {
        if (keptFor.isZero()) {
            return false;
        }
        Instant until = entries.get(entry(storedHashes, password));
        return until != null && clock.instant().isBefore(until);
    }

    void matched(String storedHashes, String password) {
        if (keptFor.isZero()) {
            return;
        }
        Instant now = clock.instant();
        BoundedEntries.makeRoom(entries, until -> !now.isBefore(until));
        entries.put(entry(storedHashes, password), now.plus(keptFor));
    }

    private String entry(String storedHashes, String password) {
        Mac mac = macs.get(); // doFinal leaves it reset for the next entry
        mac.update(storedHashes.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) 0);
        return Base64.getEncoder().encodeToString(mac.doFinal(password.getBytes(StandardCharsets.UTF_8)));
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}

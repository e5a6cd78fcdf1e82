package dev.doppel.connectivity.registry;

import dev.doppel.connectivity.config.SecretsConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals the secrets the registry must be able to read back (a DTLS pre-shared key is needed for the
 * handshake, a broker's password to log in there), so that a copy of the database, a backup or a
 * read-only leak does not give them away: AES-256-GCM under a key from the service's configuration
 * ({@code doppel.secrets.key}, kept in a Kubernetes Secret, not in the database).
 *
 * <p>A sealed secret reads {@code v1:<key id>:<base64 of nonce, ciphertext and tag>}; the key id is
 * the start of the key's SHA-256, so old keys ({@code doppel.secrets.old-keys}) still open what they
 * sealed while a rotation is under way. The record the secret belongs to (its {@code _id}) is bound
 * in as associated data: a sealed value copied into another record does not open there.
 */
@ApplicationScoped
public class SecretBox {

    private static final String VERSION = "v1";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final SecureRandom random = new SecureRandom();
    private final String currentId;
    private final Map<String, SecretKey> keys = new LinkedHashMap<>();

    public SecretBox(SecretsConfig config) {
        String current = config.key().filter(k -> !k.isBlank()).orElseThrow(() -> new IllegalStateException(
                "doppel.secrets.key is not set: connectivity-service seals pre-shared keys and broker passwords "
                        + "with it (32 random bytes in base64: openssl rand -base64 32; in Kubernetes the Secret "
                        + "doppel-secrets, key key; see docs/operations.md)"));
        this.currentId = add(current);
        config.oldKeys().orElse(List.of()).stream().filter(k -> !k.isBlank()).forEach(this::add);
    }

    private String add(String base64) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("a key of doppel.secrets is not base64");
        }
        if (raw.length != 32) {
            throw new IllegalStateException("a key of doppel.secrets has " + raw.length
                    + " bytes; AES-256 needs 32 (openssl rand -base64 32)");
        }
        String id = id(raw);
        keys.putIfAbsent(id, new SecretKeySpec(raw, "AES"));
        return id;
    }

    private static String id(byte[] key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 4);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code plain} sealed under the current key, bound to {@code record}. */
    public String seal(byte[] plain, String record) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, keys.get(currentId), new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(record.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(plain);
            return VERSION + ":" + currentId + ":" + Base64.getEncoder().encodeToString(
                    ByteBuffer.allocate(nonce.length + sealed.length).put(nonce).put(sealed).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing a secret failed", e);
        }
    }

    public String seal(String plain, String record) {
        return seal(plain.getBytes(StandardCharsets.UTF_8), record);
    }

    /**
     * The secret {@link #seal} sealed for {@code record}.
     *
     * @throws IllegalStateException when it was sealed with a key this service does not have, for
     *         another record, or was altered
     */
    public byte[] open(String sealed, String record) {
        String[] parts = sealed.split(":", 3);
        if (parts.length != 3 || !VERSION.equals(parts[0])) {
            throw new IllegalStateException("a stored secret of " + record + " is not in a sealed form this service reads");
        }
        SecretKey key = keys.get(parts[1]);
        if (key == null) {
            throw new IllegalStateException("a stored secret of " + record + " was sealed with key " + parts[1]
                    + ", which is neither doppel.secrets.key nor one of doppel.secrets.old-keys");
        }
        try {
            byte[] all = Base64.getDecoder().decode(parts[2]);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, all, 0, NONCE_BYTES));
            cipher.updateAAD(record.getBytes(StandardCharsets.UTF_8));
            return cipher.doFinal(all, NONCE_BYTES, all.length - NONCE_BYTES);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("a stored secret of " + record + " does not open: altered, or sealed "
                    + "for another record", e);
        }
    }

    public String openString(String sealed, String record) {
        return new String(open(sealed, record), StandardCharsets.UTF_8);
    }

    /** Whether {@code sealed} is sealed with the current key (else it is sealed again at start). */
    public boolean isCurrent(String sealed) {
        return sealed.startsWith(VERSION + ":" + currentId + ":");
    }
}

package dev.doppel.twin.security;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bson.Document;
import org.bson.types.Binary;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Short-lived, single-use tickets that let a browser's {@code EventSource} open the SSE stream, which
 * cannot carry an {@code Authorization} header: {@code POST /api/2/live-tickets} with the bearer token
 * issues one, {@code GET /api/2/things?ticket=...} redeems it ({@link LiveTicketSignIn}).
 *
 * <p>A ticket stands for the bearer token it was issued for, which is verified again when it is
 * redeemed, so the stream gets exactly that token's identity and ends when the token expires. The
 * store (shared by every replica, so any of them can redeem it) holds neither: the ticket's SHA-256 is
 * the key, and the token is sealed with AES-GCM under a key derived from the ticket, which only the
 * client has. A ticket lives {@code doppel.live-tickets.lifetime} (30 s, never past the token's
 * expiry) and is deleted by the redemption that uses it, so a ticket seen later in a log or a proxy
 * opens nothing. Unused tickets are deleted once expired (a TTL index on real MongoDB, a sweep here).
 */
@ApplicationScoped
public class LiveTickets {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();

    /** An issued ticket and when it stops opening anything. */
    public record Ticket(String ticket, Instant expires) {
    }

    private final ReactiveMongoCollection<Document> tickets;
    private final Duration lifetime;

    public LiveTickets(ReactiveMongoClient mongo,
            @ConfigProperty(name = "doppel.twin.database", defaultValue = "doppel-twins") String database,
            @ConfigProperty(name = "doppel.live-tickets.lifetime", defaultValue = "30s") Duration lifetime) {
        this.tickets = mongo.getDatabase(database).getCollection("live_tickets");
        this.lifetime = lifetime;
    }

    public Uni<Void> ensureIndexes() {
        return tickets.createIndex(Indexes.ascending("expires"), new IndexOptions().name("expiry")
                .expireAfter(0L, TimeUnit.SECONDS)).replaceWithVoid();
    }

    /** A ticket for this bearer token, which expires at {@code tokenExpiresAt} (epoch seconds). */
    public Uni<Ticket> issue(String accessToken, long tokenExpiresAt) {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String ticket = URL.encodeToString(secret);
        Instant expires = Instant.now().plus(lifetime);
        if (tokenExpiresAt > 0 && Instant.ofEpochSecond(tokenExpiresAt).isBefore(expires)) {
            expires = Instant.ofEpochSecond(tokenExpiresAt);
        }
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(nonce);
        byte[] sealed = crypt(Cipher.ENCRYPT_MODE, ticket, nonce, accessToken.getBytes(StandardCharsets.UTF_8));
        Document doc = new Document("_id", id(ticket)).append("nonce", new Binary(nonce))
                .append("sealed", new Binary(sealed)).append("expires", Date.from(expires));
        Ticket issued = new Ticket(ticket, expires);
        return tickets.insertOne(doc).replaceWith(issued);
    }

    /**
     * The bearer token a ticket stands for, once: the ticket is deleted as it is read. Null for a ticket
     * that is unknown, used or expired, or not shaped like one.
     */
    public Uni<String> redeem(String ticket) {
        if (ticket == null || ticket.length() != 43) {
            return Uni.createFrom().nullItem();
        }
        return tickets.findOneAndDelete(Filters.eq("_id", id(ticket))).map(doc -> {
            if (doc == null || doc.getDate("expires").toInstant().isBefore(Instant.now())) {
                return null;
            }
            byte[] token = crypt(Cipher.DECRYPT_MODE, ticket, doc.get("nonce", Binary.class).getData(),
                    doc.get("sealed", Binary.class).getData());
            return new String(token, StandardCharsets.UTF_8);
        });
    }

    /** Real MongoDB's TTL index deletes expired tickets by itself; the stand-in does not. */
    @Scheduled(every = "60s", delayed = "60s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> sweep() {
        return tickets.deleteMany(Filters.lt("expires", new Date())).replaceWithVoid();
    }

    private static String id(String ticket) {
        return URL.encodeToString(sha256("doppel live ticket id\n" + ticket));
    }

    private static byte[] crypt(int mode, String ticket, byte[] nonce, byte[] input) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(mode, new SecretKeySpec(sha256("doppel live ticket key\n" + ticket), "AES"),
                    new GCMParameterSpec(128, nonce));
            return cipher.doFinal(input);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the sealed token does not open with its ticket", e);
        }
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

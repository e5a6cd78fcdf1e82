package dev.doppel.connectivity.registry;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import dev.doppel.connectivity.config.RegistryConfig;
import io.quarkus.mongodb.reactive.ReactiveMongoClient;
import io.quarkus.mongodb.reactive.ReactiveMongoCollection;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import org.bson.Document;

/**
 * The login throttle's failures as every connectivity replica sees them ({@code login_failures}, keyed
 * like {@link LoginThrottle}: a login from one source address). {@link LoginThrottle} reserves
 * attempts on one replica; this makes its blocks hold on all of them: before a password is hashed,
 * the shared record is read, and a login blocked there is refused without a check, wherever the
 * failures happened. So a guesser who spreads attempts over the replicas gets the free attempts and
 * the doubling blocks once, not once per replica.
 *
 * <p>Only logins that would hash a password read it (a password matched lately is not checked again,
 * {@code doppel.registry.verified-password-kept}); failures write it, and a checked success removes
 * it. Records are forgotten an hour after their last failure (a TTL index; a sweep for stores
 * without one).
 */
@ApplicationScoped
public class SharedLoginFailures {

    private final ReactiveMongoCollection<Document> failures;
    private final Clock clock = Clock.systemUTC();

    public SharedLoginFailures(ReactiveMongoClient mongo, RegistryConfig config) {
        this.failures = mongo.getDatabase(config.database()).getCollection("login_failures");
    }

    public Uni<Void> ensureIndexes() {
        return failures.createIndex(Indexes.ascending("at"), new IndexOptions().name("forget")
                .expireAfter(LoginThrottle.FORGET_AFTER.toSeconds(), TimeUnit.SECONDS)).replaceWithVoid();
    }

    /** Whether the key is blocked now, by failures on any replica. */
    public Uni<Boolean> blocked(String key) {
        return failures.find(Filters.eq("_id", key)).collect().first().map(d -> {
            Date until = d == null ? null : d.getDate("blockedUntil");
            return until != null && clock.instant().isBefore(until.toInstant());
        });
    }

    /** One more failure of the key; blocks it for every replica once the free attempts are used up. */
    public Uni<Void> failed(String key) {
        Instant now = clock.instant();
        return failures.findOneAndUpdate(Filters.eq("_id", key),
                        Updates.combine(Updates.inc("failures", 1), Updates.set("at", Date.from(now))),
                        new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER))
                .chain(d -> {
                    Instant until = LoginThrottle.blockedUntil(d.getInteger("failures", 1), now);
                    return until == null ? Uni.createFrom().voidItem()
                            : failures.updateOne(Filters.eq("_id", key), Updates.set("blockedUntil", Date.from(until)))
                                    .replaceWithVoid();
                });
    }

    /** The right password was checked: the key's failures are forgotten everywhere. */
    public Uni<Void> succeeded(String key) {
        return failures.deleteOne(Filters.eq("_id", key)).replaceWithVoid();
    }

    /** For a store that does not expire documents by itself (the local run's). */
    @Scheduled(every = "5m", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> forgetOld() {
        return failures.deleteMany(Filters.lt("at", Date.from(clock.instant().minus(LoginThrottle.FORGET_AFTER))))
                .replaceWithVoid().onFailure().recoverWithNull();
    }
}

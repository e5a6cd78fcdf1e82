package dev.doppel.connectivity.limits;

import dev.doppel.connectivity.config.SourceLimitsConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Limits per source address, applied before a device is authenticated, so that one source cannot take
 * the login path from everyone else: new connections (MQTT CONNECTs, DTLS ClientHellos) and password
 * checks each have a token bucket per source ({@link SourceLimitsConfig}). What is refused is counted
 * ({@code doppel.logins.limited}, by limit) and logged at most once a minute per source.
 *
 * <ul>
 * <li>An IPv6 source counts by its /64 network, the smallest block one subscriber usually gets; an
 * IPv4 source by its address.</li>
 * <li>At most {@value #MAX_SOURCES} sources are tracked; sources whose buckets have refilled are
 * forgotten every minute. When the table is full, new sources share one bucket of each kind, so a
 * flood from many addresses costs neither memory nor the allowance of the sources already tracked.</li>
 * <li>Kept per instance: with several connectivity replicas behind a load balancer a source gets
 * each limit once per replica.</li>
 * </ul>
 */
@ApplicationScoped
public class SourceRates {

    private static final Logger LOG = Logger.getLogger(SourceRates.class);
    static final int MAX_SOURCES = 100_000;
    private static final long LOG_EVERY_NANOS = 60_000_000_000L;
    private static final String OVERFLOW = "(new sources while the table is full)";

    /** What a source is limited on. */
    public enum Limit {
        CONNECT("connects"), PASSWORD_CHECK("password-checks");

        private final String tag;

        Limit(String tag) {
            this.tag = tag;
        }
    }

    private static final class Source {
        final TokenBucket connects = new TokenBucket();
        final TokenBucket passwordChecks = new TokenBucket();
        /** When a refusal of this source was last logged (System.nanoTime), or 0. */
        volatile long loggedAt;
    }

    private final SourceLimitsConfig config;
    private final MeterRegistry metrics;
    private final Set<String> trusted;
    private final Map<String, Source> sources = new ConcurrentHashMap<>();

    public SourceRates(SourceLimitsConfig config, MeterRegistry metrics) {
        this.config = config;
        this.metrics = metrics;
        this.trusted = config.trusted().orElse(java.util.List.of()).stream().map(SourceRates::key)
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /**
     * Takes one of the source's allowance of {@code limit}; {@code false} (counted, and logged when the
     * source starts being refused) when it comes faster than allowed. A null source (unknown) counts as
     * one source.
     */
    public boolean admit(String address, Limit limit) {
        String key = key(address);
        if (trusted.contains(key)) {
            return true;
        }
        Source s = sources.get(key);
        if (s == null) {
            s = sources.size() < MAX_SOURCES ? sources.computeIfAbsent(key, k -> new Source())
                    : sources.computeIfAbsent(OVERFLOW, k -> new Source());
        }
        boolean ok = switch (limit) {
            case CONNECT -> s.connects.take(config.connectsPerSecond(), config.connectsBurst(), System.nanoTime());
            case PASSWORD_CHECK -> s.passwordChecks.take(config.passwordChecksPerSecond(),
                    config.passwordChecksBurst(), System.nanoTime());
        };
        if (ok) {
            return true;
        }
        metrics.counter("doppel.logins.limited", "limit", limit.tag).increment();
        long now = System.nanoTime();
        long last = s.loggedAt;
        // A flood is refused thousands of times a second, and admitted at the allowed rate in between.
        if (last == 0 || now - last > LOG_EVERY_NANOS) {
            s.loggedAt = now;
            LOG.warnf("refusing %s from %s: more than %s per second (doppel.limits.per-source); counted in "
                    + "doppel.logins.limited, logged at most once a minute per source", limit.tag, key,
                    limit == Limit.CONNECT ? config.connectsPerSecond() : config.passwordChecksPerSecond());
        }
        return false;
    }

    /** The address an allowance belongs to: IPv4 as it is, IPv6 by its /64 network. */
    static String key(String address) {
        if (address == null) {
            return "?";
        }
        if (address.indexOf(':') < 0) {
            return address;
        }
        try {
            byte[] bytes = InetAddress.getByName(address.startsWith("[") ? address.substring(1, address.length() - 1)
                    : address).getAddress();
            if (bytes.length == 16) {
                StringBuilder out = new StringBuilder();
                for (int i = 0; i < 8; i += 2) {
                    out.append(Integer.toHexString(((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff))).append(':');
                }
                return out.append(":/64").toString();
            }
            return InetAddress.getByAddress(bytes).getHostAddress(); // an IPv4-mapped address
        } catch (UnknownHostException | IllegalArgumentException e) {
            return address; // not an address literal: Vert.x gave us something else; count it as it is
        }
    }

    /** Forgets the sources whose buckets have refilled: they limit nobody now. */
    @Scheduled(every = "1m")
    void forgetQuiet() {
        long now = System.nanoTime();
        sources.values().removeIf(s -> s.connects.full(config.connectsPerSecond(), config.connectsBurst(), now)
                && s.passwordChecks.full(config.passwordChecksPerSecond(), config.passwordChecksBurst(), now));
    }

    int tracked() {
        return sources.size();
    }
}

package dev.doppel.connectivity.egress;

import dev.doppel.connectivity.registry.DeviceRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Where a tenant's outbound connections may go: the Modbus TCP devices connectivity polls and the
 * external MQTT brokers it bridges. A tenant's device admin names these hosts; unchecked, they would
 * make connectivity reach whatever it can reach: another tenant's gateway, or the platform's own
 * Kafka, MongoDB and Keycloak.
 *
 * <p>Every address the host name resolves to is checked, when a plan or connection is stored and
 * again at every connection (so a name that later resolves elsewhere, or an allow-list that shrank,
 * is caught), and the connection is then made to the address that was checked, not to the name
 * resolved once more. In this order:
 * <ol>
 * <li>Never: the platform's own endpoints (Kafka, MongoDB and Keycloak as this service is configured
 * to reach them, this service's own listeners, and {@code doppel.egress.platform-endpoints}), and
 * unspecified, link-local (cloud metadata, 169.254.169.254) and multicast addresses.</li>
 * <li>Loopback only where {@code doppel.egress.allow-loopback} is set: the local run and the tests,
 * whose devices run on the same machine. Never in production.</li>
 * <li>Everything else only if the tenant's allow-list names it ({@link EgressRule}); dt-admin
 * manages the list ({@code PUT /api/registry/tenants/{tenant}/egress}). No list, no egress.</li>
 * </ol>
 */
@ApplicationScoped
public class EgressPolicy {

    private static final Logger LOG = Logger.getLogger(EgressPolicy.class);

    /** A host and port of the platform itself. */
    record Endpoint(String host, int port) {
    }

    private final DeviceRegistry registry;
    private final MeterRegistry metrics;
    private final boolean allowLoopback;
    private final List<Endpoint> platform;

    public EgressPolicy(DeviceRegistry registry, MeterRegistry metrics,
            @ConfigProperty(name = "doppel.egress.allow-loopback", defaultValue = "false") boolean allowLoopback,
            @ConfigProperty(name = "doppel.egress.platform-endpoints") Optional<List<String>> platformEndpoints,
            @ConfigProperty(name = "kafka.bootstrap.servers") Optional<String> kafka,
            @ConfigProperty(name = "quarkus.mongodb.connection-string") Optional<String> mongo,
            @ConfigProperty(name = "quarkus.oidc.auth-server-url") Optional<String> oidc,
            @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int httpPort,
            @ConfigProperty(name = "doppel.mqtt.port", defaultValue = "1883") int mqttPort,
            @ConfigProperty(name = "doppel.coap.port", defaultValue = "5683") int coapPort,
            @ConfigProperty(name = "doppel.coap.dtls-port", defaultValue = "5684") int coapsPort) {
        this.registry = registry;
        this.metrics = metrics;
        this.allowLoopback = allowLoopback;
        List<Endpoint> p = new ArrayList<>();
        kafka.ifPresent(k -> p.addAll(hostPorts(k.split(","), 9092)));
        mongo.filter(m -> m.startsWith("mongodb://")).ifPresent(m -> p.addAll(mongoHosts(m)));
        oidc.ifPresent(o -> url(o).ifPresent(p::add));
        for (int own : new int[] {httpPort, mqttPort, coapPort, coapsPort}) {
            if (own > 0) {
                p.add(new Endpoint("127.0.0.1", own));
            }
        }
        platformEndpoints.ifPresent(list -> p.addAll(hostPorts(list.toArray(String[]::new), -1)));
        this.platform = List.copyOf(p);
    }

    /**
     * Whether {@code tenant} may connect to {@code host:port}: the address to connect to, or a failure
     * with {@link EgressRefused} that says why. Resolves the name off the event loop.
     */
    public Uni<InetAddress> check(String tenant, String host, int port, String use) {
        return registry.egress(tenant).emitOn(Infrastructure.getDefaultWorkerPool()).map(list -> {
            List<EgressRule> rules = list.stream().map(EgressRule::parse).toList();
            try {
                return decide(tenant, host, port, InetAddress.getAllByName(host), rules);
            } catch (UnknownHostException e) {
                throw new EgressRefused(host + " does not resolve");
            }
        }).onFailure(EgressRefused.class).invoke(e -> {
            metrics.counter("doppel.egress.refused", "use", use).increment();
            LOG.warnf("tenant %s: %s to %s:%d refused: %s", tenant, use, host, port, e.getMessage());
        });
    }

    /** The first of the addresses, if every one of them is allowed; {@link EgressRefused} otherwise. */
    InetAddress decide(String tenant, String host, int port, InetAddress[] addresses, List<EgressRule> rules) {
        for (InetAddress a : addresses) {
            if (a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isMulticastAddress()) {
                throw new EgressRefused(a.getHostAddress() + " is never reachable from connectivity");
            }
            if (isPlatform(a, port)) {
                throw new EgressRefused(host + ":" + port + " is one of the platform's own endpoints");
            }
            if (a.isLoopbackAddress()) {
                if (!allowLoopback) {
                    throw new EgressRefused("loopback addresses are reachable only in the local run");
                }
                continue;
            }
            if (rules.stream().noneMatch(r -> r.allows(host, a, port))) {
                throw new EgressRefused(host + ":" + port + " is not in tenant " + tenant
                        + "'s egress allow-list (dt-admin sets it: PUT /api/registry/tenants/" + tenant + "/egress)");
            }
        }
        return addresses[0];
    }

    private boolean isPlatform(InetAddress a, int port) {
        for (Endpoint e : platform) {
            if (e.port() != port && e.port() != -1) {
                continue;
            }
            try {
                for (InetAddress p : InetAddress.getAllByName(e.host())) {
                    if (p.equals(a) || (isLocal(p) && isLocal(a))) {
                        return true;
                    }
                }
            } catch (UnknownHostException ignored) {
                // A platform name that does not resolve here cannot be reached under it either.
            }
        }
        return false;
    }

    /** This machine: loopback, unspecified, or an address of one of its interfaces. */
    private static boolean isLocal(InetAddress a) {
        if (a.isLoopbackAddress() || a.isAnyLocalAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    private static List<Endpoint> hostPorts(String[] entries, int defaultPort) {
        List<Endpoint> out = new ArrayList<>();
        for (String entry : entries) {
            String e = entry.trim();
            int colon = e.lastIndexOf(':');
            if (e.isEmpty()) {
                continue;
            }
            if (colon > 0 && e.indexOf(']') < colon) {
                out.add(new Endpoint(strip(e.substring(0, colon)), Integer.parseInt(e.substring(colon + 1))));
            } else {
                out.add(new Endpoint(strip(e), defaultPort));
            }
        }
        return out;
    }

    /** The hosts of {@code mongodb://[user:password@]host[:port][,host[:port]]/...}. */
    private static List<Endpoint> mongoHosts(String connection) {
        String rest = connection.substring("mongodb://".length());
        int at = rest.lastIndexOf('@', rest.indexOf('/') < 0 ? rest.length() : rest.indexOf('/'));
        rest = rest.substring(at + 1);
        int end = rest.length();
        for (char c : new char[] {'/', '?'}) {
            int i = rest.indexOf(c);
            if (i >= 0) {
                end = Math.min(end, i);
            }
        }
        return hostPorts(rest.substring(0, end).split(","), 27017);
    }

    private static Optional<Endpoint> url(String url) {
        try {
            URI u = URI.create(url);
            if (u.getHost() == null) {
                return Optional.empty();
            }
            int port = u.getPort() > 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
            return Optional.of(new Endpoint(u.getHost(), port));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String strip(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}

package dev.doppel.connectivity.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One entry of a tenant's egress allow-list: a host name ({@code plc-7.plant.example}), a name
 * suffix ({@code *.plant.example}), an IP address or a CIDR range ({@code 10.20.0.0/16},
 * {@code [fd00::/8]}), each with an optional port ({@code 10.20.0.0/16:502}); without one, any port.
 * A name entry matches the name a plan or connection gives, not what it resolves to; the addresses
 * it resolves to are still checked against the platform's own endpoints.
 */
public record EgressRule(String name, byte[] network, int prefix, int port) {

    private static final Pattern NAME = Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]{0,62})(\\.[a-z0-9]([a-z0-9-]{0,62}))*");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final int ANY_PORT = -1;

    /** Parses an entry; {@link IllegalArgumentException} with what is wrong otherwise. */
    public static EgressRule parse(String entry) {
        if (entry == null || entry.isBlank() || entry.length() > 255) {
            throw new IllegalArgumentException("an entry is a host, *.domain, address or CIDR range, 1 to 255 characters");
        }
        String e = entry.trim().toLowerCase(Locale.ROOT);
        String host = e;
        int port = ANY_PORT;
        if (e.startsWith("[")) {
            int close = e.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(entry + ": unclosed [");
            }
            host = e.substring(1, close);
            port = port(entry, e.substring(close + 1));
        } else if (e.indexOf(':') >= 0 && e.indexOf(':') == e.lastIndexOf(':')) {
            host = e.substring(0, e.indexOf(':'));
            port = port(entry, e.substring(e.indexOf(':')));
        }
        int slash = host.indexOf('/');
        String address = slash < 0 ? host : host.substring(0, slash);
        boolean literal = IPV4.matcher(address).matches() || address.contains(":");
        if (IPV4.matcher(address).matches()) {
            for (String octet : address.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    throw new IllegalArgumentException(entry + ": not an IP address");
                }
            }
        }
        if (!literal) {
            if (slash >= 0 || !NAME.matcher(host).matches() || host.length() > 253) {
                throw new IllegalArgumentException(entry + ": not a host name, address or CIDR range");
            }
            return new EgressRule(host, null, 0, port);
        }
        byte[] bytes;
        try {
            // A literal (checked above): no name lookup happens.
            bytes = InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException | SecurityException ex) {
            throw new IllegalArgumentException(entry + ": not an IP address");
        }
        int prefix = bytes.length * 8;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(host.substring(slash + 1));
            } catch (NumberFormatException ex) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > bytes.length * 8) {
                throw new IllegalArgumentException(entry + ": the prefix length is 0 to " + bytes.length * 8);
            }
        }
        return new EgressRule(null, bytes, prefix, port);
    }

    private static int port(String entry, String rest) {
        if (rest.isEmpty()) {
            return ANY_PORT;
        }
        try {
            int p = rest.startsWith(":") ? Integer.parseInt(rest.substring(1)) : -2;
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(entry + ": a port is 1 to 65535");
    }

    /** Whether a connection to {@code host} (as named), at {@code address}, port {@code port} is allowed by this entry. */
    public boolean allows(String host, InetAddress address, int port) {
        if (this.port != ANY_PORT && this.port != port) {
            return false;
        }
        if (name != null) {
            String h = host.toLowerCase(Locale.ROOT);
            return name.startsWith("*.") ? h.endsWith(name.substring(1)) : h.equals(name);
        }
        byte[] a = address.getAddress();
        if (a.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int bits = prefix % 8;
        if (bits == 0) {
            return true;
        }
        int mask = 0xff << (8 - bits) & 0xff;
        return (a[full] & mask) == (network[full] & mask);
    }
}

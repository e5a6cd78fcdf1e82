package dev.doppel.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

public final class Ports {

    private static final Random RANDOM = new Random();
    /** Ports this JVM handed out: never handed out twice, so ports asked for together differ. */
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    private Ports() {
    }

    /**
     * A TCP port that was free a moment ago on the loopback interface, below the range the kernel
     * picks the local ports of outgoing connections from. A port from that range (what binding port 0
     * gives) can be taken by one of the many client connections the local system opens (Kafka, the
     * store, Keycloak) before its server binds it: seen as "Address already in use" at start-up.
     */
    public static int free() {
        int below = ephemeralRangeStart();
        for (int i = 0; i < 200; i++) {
            int port = 10000 + RANDOM.nextInt(Math.max(1, below - 10000));
            if (GIVEN.contains(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                if (GIVEN.add(port)) {
                    return port;
                }
            } catch (IOException taken) {
                // try another
            }
        }
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A UDP port that was free a moment ago on the loopback interface. */
    public static int freeUdp() {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first port of {@code net.ipv4.ip_local_port_range} (32768 where it cannot be read). */
    private static int ephemeralRangeStart() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int start = Integer.parseInt(range.split("\\s+")[0]);
            return start > 11000 ? start : 32768;
        } catch (IOException | RuntimeException e) {
            return 32768;
        }
    }

    /**
     * Whether a process holds this UDP port on the loopback interface (or on all interfaces): UDP has
     * no connection to try, so this tries to bind it.
     */
    public static boolean isUdpBound(int port) {
        try (DatagramSocket s = new DatagramSocket(port, InetAddress.getLoopbackAddress())) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    public static boolean isOpen(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

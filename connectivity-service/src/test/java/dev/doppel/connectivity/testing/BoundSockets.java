package dev.doppel.connectivity.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.SocketFactory;

/**
 * Sockets that connect from a given local address, so that a test's clients come from a source of
 * their own (any of 127.0.0.0/8 reaches a server on 127.0.0.1): per-source limits and logs then
 * count them apart from other tests' clients.
 */
public final class BoundSockets extends SocketFactory {

    private final String address;

    private BoundSockets(String address) {
        this.address = address;
    }

    public static SocketFactory from(String address) {
        return new BoundSockets(address);
    }

    @Override
    public Socket createSocket() throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(address, 0));
        return s;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return createSocket(InetAddress.getByName(host), port);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress local, int localPort) {
        throw new UnsupportedOperationException("the local address is the factory's");
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        Socket s = createSocket();
        s.connect(new InetSocketAddress(host, port));
        return s;
    }

    @Override
    public Socket createSocket(InetAddress host, int port, InetAddress local, int localPort) {
        throw new UnsupportedOperationException("the local address is the factory's");
    }
}

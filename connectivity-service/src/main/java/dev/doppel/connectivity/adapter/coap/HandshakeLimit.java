package dev.doppel.connectivity.adapter.coap;

import dev.doppel.connectivity.limits.SourceRates;
import java.net.DatagramPacket;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DtlsDatagramFilter;

/**
 * Scandium's datagram filter, plus each source's allowance of new connections ({@link SourceRates}):
 * a ClientHello that carries the server's cookie starts a handshake (and a registry lookup of its PSK
 * identity), so it takes one; over the limit it is dropped, which to the device is a lost datagram
 * that it retries later. A ClientHello without a cookie is answered statelessly and its source may be
 * forged, so it takes nothing: nobody can spend another address's allowance.
 */
final class HandshakeLimit extends DtlsDatagramFilter {

    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    /** Record header (13 bytes), handshake header (12), client version (2) and random (32). */
    private static final int SESSION_ID_AT = 13 + 12 + 2 + 32;

    private final SourceRates rates;

    HandshakeLimit(Configuration config, SourceRates rates) {
        super(config);
        this.rates = rates;
    }

    @Override
    public boolean onReceiving(DatagramPacket packet) {
        if (!super.onReceiving(packet)) {
            return false;
        }
        if (!isClientHelloWithCookie(packet.getData(), packet.getOffset(), packet.getLength())) {
            return true;
        }
        return rates.admit(packet.getAddress() == null ? null : packet.getAddress().getHostAddress(),
                SourceRates.Limit.CONNECT);
    }

    /** The first record is a ClientHello of epoch 0, whole or its first fragment, with a cookie. */
    static boolean isClientHelloWithCookie(byte[] data, int offset, int length) {
        if (length <= SESSION_ID_AT + 1 || (data[offset] & 0xff) != HANDSHAKE
                || data[offset + 3] != 0 || data[offset + 4] != 0 // epoch 0
                || (data[offset + 13] & 0xff) != CLIENT_HELLO
                || data[offset + 19] != 0 || data[offset + 20] != 0 || data[offset + 21] != 0) { // fragment offset 0
            return false;
        }
        int cookieAt = SESSION_ID_AT + 1 + (data[offset + SESSION_ID_AT] & 0xff);
        return cookieAt < length && (data[offset + cookieAt] & 0xff) > 0;
    }
}

package dev.doppel.connectivity.adapter.coap;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

class HandshakeLimitTest {

    /** A DTLS 1.2 record holding a ClientHello with the given session id and cookie lengths. */
    private static byte[] clientHello(int epoch, int handshakeType, int fragmentOffset, int sessionId, int cookie) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(0xfe);
        body.write(0xfd); // client version
        body.writeBytes(new byte[32]); // random
        body.write(sessionId);
        body.writeBytes(new byte[sessionId]);
        body.write(cookie);
        body.writeBytes(new byte[cookie]);
        body.writeBytes(new byte[] {0, 2, (byte) 0xc0, (byte) 0xa8, 1, 0}); // one cipher suite, no compression
        byte[] b = body.toByteArray();
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(new byte[] {22, (byte) 0xfe, (byte) 0xfd, 0, (byte) epoch, 0, 0, 0, 0, 0, 0});
        int length = 12 + b.length;
        record.write(length >> 8);
        record.write(length);
        record.write(handshakeType);
        record.writeBytes(new byte[] {0, (byte) (b.length >> 8), (byte) b.length, 0, 0});
        record.writeBytes(new byte[] {0, (byte) (fragmentOffset >> 8), (byte) fragmentOffset});
        record.writeBytes(new byte[] {0, (byte) (b.length >> 8), (byte) b.length});
        record.writeBytes(b);
        return record.toByteArray();
    }

    private static boolean counted(byte[] packet) {
        return HandshakeLimit.isClientHelloWithCookie(packet, 0, packet.length);
    }

    @Test
    void onlyAClientHelloBackWithTheServersCookieTakesAnAllowance() {
        assertTrue(counted(clientHello(0, 1, 0, 0, 32)), "the second ClientHello, with the cookie");
        assertTrue(counted(clientHello(0, 1, 0, 32, 32)), "with a session id to resume as well");
        assertFalse(counted(clientHello(0, 1, 0, 0, 0)), "the first ClientHello: answered statelessly, source unproven");
        assertFalse(counted(clientHello(0, 16, 0, 0, 32)), "another handshake message");
        assertFalse(counted(clientHello(1, 1, 0, 0, 32)), "not epoch 0");
        assertFalse(counted(clientHello(0, 1, 40, 0, 32)), "a later fragment");
        assertFalse(counted(new byte[] {23, (byte) 0xfe, (byte) 0xfd}), "application data, and short");
        byte[] cut = clientHello(0, 1, 0, 200, 32);
        assertFalse(HandshakeLimit.isClientHelloWithCookie(cut, 0, 80), "the cookie beyond the datagram");
    }
}

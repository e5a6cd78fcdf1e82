package dev.doppel.connectivity.adapter.modbus;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Modbus TCP slave that lies: to each read request it gives, from a seeded {@link Random}, one of
 * the answers a broken or malicious device can give (wrong transaction, unit or function, register
 * counts that disagree, exceptions, garbage, absurd lengths, silence, a slow drip of bytes, a closed
 * connection, two answers to one request). The one honest answer carries {@link #HONEST} in every
 * register; every dishonest one that carries register values carries {@link #DISHONEST}, so a
 * poller that accepts a lie reports a value it should not have.
 */
final class HostileModbusSlave implements AutoCloseable {

    static final int HONEST = 4242;
    static final int DISHONEST = 6666;

    enum Answer {
        HONEST, WRONG_TRANSACTION, WRONG_UNIT, WRONG_FUNCTION, FEWER_REGISTERS, MORE_REGISTERS, BYTE_COUNT_LIES,
        EXCEPTION, GARBAGE, HUGE_LENGTH, ZERO_LENGTH, SILENCE, CLOSE, HALF_THEN_CLOSE, TWICE, DRIP
    }

    private final ServerSocket server;
    private final Random random;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Map<Answer, AtomicInteger> given = new ConcurrentHashMap<>();
    private final AtomicInteger dripping = new AtomicInteger();
    private volatile Answer only;
    private volatile boolean closed;

    HostileModbusSlave(long seed) throws IOException {
        this.server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        this.random = new Random(seed);
        Thread accept = new Thread(this::accept, "hostile-modbus-slave");
        accept.setDaemon(true);
        accept.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Answers given so far, by kind. */
    Map<Answer, AtomicInteger> given() {
        return given;
    }

    int total() {
        return given.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** Connections being dripped into right now. */
    int dripping() {
        return dripping.get();
    }

    /** From now on, only this answer (null: any). */
    void only(Answer answer) {
        this.only = answer;
    }

    private void accept() {
        while (!closed) {
            try {
                Socket s = server.accept();
                open.add(s);
                Thread t = new Thread(() -> serve(s), "hostile-modbus-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private synchronized Answer next() {
        Answer fixed = only;
        if (fixed != null) {
            return fixed;
        }
        Answer[] all = Answer.values();
        return all[random.nextInt(all.length)];
    }

    private synchronized byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private void serve(Socket s) {
        try (s; DataInputStream in = new DataInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            while (!closed) {
                int transaction = in.readUnsignedShort();
                in.readUnsignedShort(); // protocol
                int length = in.readUnsignedShort();
                if (length < 2 || length > 260) {
                    return;
                }
                byte[] rest = new byte[length];
                in.readFully(rest);
                int unit = rest[0] & 0xFF;
                int function = rest[1] & 0xFF;
                int quantity = length >= 6 ? ((rest[4] & 0xFF) << 8) | (rest[5] & 0xFF) : 1;
                Answer a = next();
                given.computeIfAbsent(a, k -> new AtomicInteger()).incrementAndGet();
                if (!answer(a, out, transaction, unit, function, Math.min(quantity, 125))) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // the poller hung up, or we did
        } finally {
            open.remove(s);
        }
    }

    /** Writes one answer; false when the connection is to end. */
    private boolean answer(Answer a, OutputStream out, int transaction, int unit, int function, int quantity)
            throws IOException, InterruptedException {
        switch (a) {
            case HONEST -> out.write(frame(transaction, unit, function, quantity, quantity, HONEST));
            case WRONG_TRANSACTION -> out.write(frame(transaction + 1, unit, function, quantity, quantity, DISHONEST));
            case WRONG_UNIT -> out.write(frame(transaction, unit + 1, function, quantity, quantity, DISHONEST));
            case WRONG_FUNCTION -> out.write(frame(transaction, unit, function == 3 ? 4 : 3, quantity, quantity,
                    DISHONEST));
            case FEWER_REGISTERS -> out.write(frame(transaction, unit, function, quantity - 1, quantity - 1, DISHONEST));
            case MORE_REGISTERS -> out.write(frame(transaction, unit, function, quantity + 5, quantity + 5, DISHONEST));
            case BYTE_COUNT_LIES -> out.write(frame(transaction, unit, function, quantity, quantity - 1, DISHONEST));
            case EXCEPTION -> out.write(ByteBuffer.allocate(9).putShort((short) transaction).putShort((short) 0)
                    .putShort((short) 3).put((byte) unit).put((byte) (function | 0x80))
                    .put((byte) (1 + (randomBytes(1)[0] & 0x7F))).array()); // codes 1 to 128
            case GARBAGE -> out.write(randomBytes(1 + (randomBytes(1)[0] & 0xFF)));
            case HUGE_LENGTH -> {
                out.write(ByteBuffer.allocate(9).putShort((short) transaction).putShort((short) 0)
                        .putShort((short) 0xFFFF).put((byte) unit).put((byte) function).put((byte) 0xFF).array());
                out.flush();
                return hold();
            }
            case ZERO_LENGTH -> out.write(ByteBuffer.allocate(6).putShort((short) transaction).putShort((short) 0)
                    .putShort((short) 0).array());
            case SILENCE -> {
                return hold();
            }
            case CLOSE -> {
                return false;
            }
            case HALF_THEN_CLOSE -> {
                byte[] f = frame(transaction, unit, function, quantity, quantity, DISHONEST);
                out.write(f, 0, f.length / 2);
                out.flush();
                return false;
            }
            case TWICE -> {
                out.write(frame(transaction, unit, function, quantity, quantity, HONEST));
                // The second answer waits in the poller's buffer for its next request.
                out.write(frame(transaction, unit, function, quantity, quantity, DISHONEST));
            }
            case DRIP -> {
                // An honest answer, one byte at a time, each well within the poller's read timeout.
                dripping.incrementAndGet();
                try {
                    for (byte b : frame(transaction, unit, function, quantity, quantity, HONEST)) {
                        Thread.sleep(800);
                        out.write(b);
                        out.flush();
                    }
                } finally {
                    dripping.decrementAndGet();
                }
            }
        }
        out.flush();
        return true;
    }

    /** Says nothing until the poller hangs up. */
    private boolean hold() throws InterruptedException {
        while (!closed) {
            Thread.sleep(100);
        }
        return false;
    }

    /** A read answer: MBAP header, then {@code byteCountWords * 2} announced and {@code words} registers sent. */
    private static byte[] frame(int transaction, int unit, int function, int byteCountWords, int words, int value) {
        int n = Math.max(words, 0);
        ByteBuffer b = ByteBuffer.allocate(9 + 2 * n);
        b.putShort((short) transaction).putShort((short) 0).putShort((short) (3 + 2 * n)).put((byte) unit)
                .put((byte) function).put((byte) (2 * Math.max(byteCountWords, 0)));
        for (int i = 0; i < n; i++) {
            b.putShort((short) value);
        }
        return b.array();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }
}

package dev.doppel.connectivity.adapter.coap;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.EventLoopLag;
import dev.doppel.devstack.testing.Hostile;
import dev.doppel.devstack.testing.KafkaProbe;
import dev.doppel.devstack.testing.LogWatch;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;

/**
 * Hostile CoAP (RFC 7252) over UDP, from a fixed seed: 10,000 datagrams to the plain port, each bytes
 * that are not CoAP, a header with reserved values (version, token length, codes), or a request
 * whose options are hostile (Uri-Path and Uri-Query texts, option numbers and lengths in their
 * extended and reserved forms, unknown critical options, Content-Format, Block1/Block2 and Size1
 * values) and whose payload is JSON or not. Afterwards: no server error but 5.03 (busy), nothing
 * logged as an error, the service ready, a registered device still reports, and nothing reached
 * Kafka in any device's name but the fuzz device's.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class CoapFuzzIT {

    private static final int DATAGRAMS = 10_000;
    private static final int TRANSFERS = 2_000;
    private static final String FUZZER = "coap-fuzz";
    private static final String SENTINEL = "coap-fuzz-sentinel";

    @Inject
    CoapAdapter adapter;

    @Inject
    Vertx vertx;

    @TestHTTPResource(value = "", management = true)
    URL management;

    private final Map<String, Integer> answers = new ConcurrentSkipListMap<>();
    private final List<String> serverErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();

    @Test
    void tenThousandHostileDatagramsBreakNothingAndReachNoOneElse() throws Exception {
        register(FUZZER);
        register(SENTINEL);
        try (EventLoopLag held = EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup());
                LogWatch errors = LogWatch.errors();
                KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            Hostile h = new Hostile(5683L);
            List<byte[]> all = new ArrayList<>();
            for (int i = 0; i < DATAGRAMS; i++) {
                byte[] d = datagram(h);
                all.add(d.length > 60_000 ? java.util.Arrays.copyOf(d, 60_000) : d); // what UDP carries, and more than CoAP's 1 KB
            }
            // No answer is the answer to much of it: each waits 100 ms.
            onSixteenSockets(all, 100, this::send);
            errors.close();
            Files.writeString(Path.of("target/fuzz-coap.txt"), "datagrams " + DATAGRAMS + ", answers by class: "
                    + answers + System.lineSeparator());
            held.assertNoneHeldLongerThan(Duration.ofSeconds(2));
            assertEquals(List.of(), serverErrors, "server errors");
            assertEquals(List.of(), errors.seen().subList(0, Math.min(20, errors.seen().size())),
                    errors.seen().size() + " errors logged");
            given().get(management + "health/ready").then().statusCode(200);

            // A registered device still reports (the positive control of the check below).
            KafkaProbe.Control control = sentinelReports(telemetry, r -> {
            });
            assertEquals(List.of(), control.strangers(), "hostile datagrams reported in the name of another device");
            String metrics = given().get(management + "metrics").then().statusCode(200).extract().asString();
            assertTrue(metrics.matches("(?s).*doppel_coap_messages_total\\{channel=\"unknown\",outcome=\"malformed-message\"} [1-9].*"),
                    "the malformed messages were not counted");
            // Most well-formed requests carry a payload that is not a JSON object, or an option the
            // server does not take: 2.xx are few (50 of 10,000 in one run), but the path is exercised.
            assertTrue(answers.getOrDefault("2.xx", 0) >= 20 && answers.getOrDefault("4.xx", 0) > 1_000,
                    "too few datagrams were taken or refused to say anything: " + answers);
        }
    }

    /**
     * Block-wise transfers (RFC 7959) from a fixed seed: 2,000 of them, 16 at a time, each a report of
     * the fuzz device whose JSON carries a marker, sent in Block1 pieces of any size. Some go in order
     * to the end; others stop half way, skip or repeat a block, change the block size, send a piece
     * that is not the size its option says, claim a total (Size1) past the limit, pass the limit, or
     * start at a block number of a million. Afterwards: no server error but 5.03, nothing logged as an
     * error, no event loop held; every transfer answered with success at its end is in Kafka, and none
     * refused or left unfinished is (nothing is taken from a part); another device still reports.
     */
    @Test
    void blockWiseTransfersThatLieOrNeverEndTakeNothingFromAPart() throws Exception {
        register(FUZZER);
        register(SENTINEL);
        java.util.Set<Integer> accepted = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.Set<Integer> refused = java.util.concurrent.ConcurrentHashMap.newKeySet();
        try (EventLoopLag held = EventLoopLag.watch(((VertxInternal) vertx).getEventLoopGroup());
                LogWatch errors = LogWatch.errors();
                KafkaProbe kafka = new KafkaProbe(RealInfrastructure.kafkaBootstrapServers());
                KafkaConsumer<String, byte[]> telemetry = kafka.subscribe(Topics.DEVICE_TELEMETRY)) {
            Hostile h = new Hostile(7959L);
            List<Transfer> all = new ArrayList<>();
            for (int i = 0; i < TRANSFERS; i++) {
                all.add(transfer(h, i));
            }
            onSixteenSockets(all, 5_000, (socket, transfer) -> {
                String end = send(socket, transfer);
                answers.merge(transfer.kind() + " " + end, 1, Integer::sum);
                if (end.startsWith("2.04")) {
                    accepted.add(transfer.marker());
                } else if (!end.equals("none")) {
                    refused.add(transfer.marker()); // refused, or left unfinished
                }
            });
            errors.close();
            Files.writeString(Path.of("target/fuzz-coap-blockwise.txt"), "transfers " + TRANSFERS
                    + ", by kind and how each ended: " + answers + System.lineSeparator());
            held.assertNoneHeldLongerThan(Duration.ofSeconds(2));
            assertEquals(List.of(), serverErrors, "server errors");
            assertEquals(List.of(), errors.seen().subList(0, Math.min(20, errors.seen().size())),
                    errors.seen().size() + " errors logged");
            given().get(management + "health/ready").then().statusCode(200);

            java.util.Set<Integer> arrived = new java.util.HashSet<>();
            KafkaProbe.Control control = sentinelReports(telemetry, r -> {
                if (r.key().equals("demo:" + FUZZER)) {
                    Object marker = KafkaProbe.read(r, TelemetryReceived.class).features().get("telemetry").get("fuzz");
                    arrived.add(marker instanceof Number n ? n.intValue() : -1);
                }
            });
            assertEquals(List.of(), control.strangers(), "block-wise transfers reported in the name of another device");
            java.util.Set<Integer> lost = new java.util.HashSet<>(accepted);
            lost.removeAll(arrived);
            assertEquals(java.util.Set.of(), lost, "transfers answered 2.04 whose report is not in Kafka");
            java.util.Set<Integer> leaked = new java.util.HashSet<>(refused);
            leaked.retainAll(arrived);
            assertEquals(java.util.Set.of(), leaked, "refused or unfinished transfers whose report reached Kafka");
            assertTrue(accepted.size() > 200 && refused.size() > 200,
                    "too few transfers were taken or refused to say anything: " + answers);
        }
    }

    /** What one socket does with one item. */
    private interface SocketTask<T> {
        void run(DatagramSocket socket, T item) throws IOException;
    }

    /**
     * Runs the task for every item, on 16 sockets at once (each a peer of its own, taking every
     * sixteenth item in order), each waiting up to {@code timeoutMs} for an answer; a task that fails
     * fails the test with its exception.
     */
    private static <T> void onSixteenSockets(List<T> items, int timeoutMs, SocketTask<T> task) throws Exception {
        List<java.util.concurrent.Future<Object>> senders = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            for (int t = 0; t < 16; t++) {
                int first = t;
                senders.add(pool.submit(() -> {
                    try (DatagramSocket socket = new DatagramSocket()) {
                        socket.setSoTimeout(timeoutMs);
                        for (int i = first; i < items.size(); i += 16) {
                            task.run(socket, items.get(i));
                        }
                    }
                    return null;
                }));
            }
        }
        for (var sender : senders) {
            sender.get();
        }
    }

    /** Reports as the sentinel device and waits for it in Kafka, handing every record read to {@code each}. */
    private KafkaProbe.Control sentinelReports(KafkaConsumer<String, byte[]> telemetry,
            java.util.function.Consumer<org.apache.kafka.clients.consumer.ConsumerRecord<String, byte[]>> each)
            throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(10_000);
            byte[] reply = answer(socket, request(0, 2, new byte[] {1, 2}, List.of(
                    option(11, "telemetry"), option(11, "demo"), option(11, SENTINEL), option(12, new byte[] {50})),
                    "{\"alive\":true}".getBytes(StandardCharsets.UTF_8)));
            assertNotNull(reply, "no answer to the sentinel's report");
            assertTrue(code(reply).startsWith("2."), "the sentinel's report was not taken: " + code(reply));
        }
        KafkaProbe.Control control = KafkaProbe.awaitControl(telemetry, "demo:" + SENTINEL,
                java.util.Set.of("demo:" + FUZZER), Duration.ofSeconds(30), Duration.ofSeconds(2), each);
        assertNotNull(control.record(), "the sentinel's report did not arrive");
        assertEquals(Map.of("telemetry", Map.of("alive", true)),
                KafkaProbe.read(control.record(), TelemetryReceived.class).features());
        return control;
    }

    /**
     * The answer to a confirmable request with a token: piggybacked on the acknowledgement, or a
     * separate response after an empty one (acknowledged in turn), or a reset of the request. What
     * answers something else (a late answer to an earlier request) is passed over; null if no answer
     * comes within the socket's timeout.
     */
    private byte[] answer(DatagramSocket socket, byte[] datagram) throws IOException {
        byte[] token = java.util.Arrays.copyOfRange(datagram, 4, 4 + (datagram[0] & 0x0f));
        byte[] reply = exchange(socket, datagram);
        while (reply != null) {
            int type = reply[0] >> 4 & 3;
            if (reply.length >= 4 && type == 3 && reply[2] == datagram[2] && reply[3] == datagram[3]) {
                return reply; // reset: the server would not take the request
            }
            if (reply.length >= 4 && type == 0) { // a separate response: confirmable, so acknowledged
                byte[] ack = {0x60, 0, reply[2], reply[3]};
                socket.send(new DatagramPacket(ack, ack.length, new InetSocketAddress("127.0.0.1", adapter.plainPort())));
            }
            boolean empty = reply.length >= 4 && (reply[1] & 0xff) == 0;
            int tkl = reply[0] & 0x0f;
            if (!empty && reply.length >= 4 + tkl && java.util.Arrays.equals(token,
                    java.util.Arrays.copyOfRange(reply, 4, 4 + tkl))) {
                return reply;
            }
            reply = receive(socket);
        }
        return null;
    }

    /** One block-wise transfer: how it misbehaves, the marker its report carries, and its datagrams' makings. */
    private record Transfer(String kind, int marker, List<Block> blocks) {
    }

    /** One piece: its Block1 number, more-flag and size exponent, the piece, and the Size1 claimed (-1: none). */
    private record Block(int num, boolean more, int szx, byte[] piece, int size1) {
    }

    private static Transfer transfer(Hostile h, int marker) {
        int szx = h.below(7); // 16 to 1024 bytes
        int limit = 65_536; // doppel.coap.max-payload-bytes
        String kind = h.pick(List.of("whole", "whole", "whole", "abandoned", "skips", "repeats", "resized",
                "wrong-size", "claims-too-much", "too-large", "far-start"));
        int padding = kind.equals("too-large") ? limit + h.below(4_096) : h.below(3_000);
        byte[] body = ("{\"fuzz\":" + marker + ",\"pad\":\"" + "x".repeat(padding) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        if (kind.equals("too-large")) {
            szx = 6; // fewer datagrams
        }
        int size = 1 << (szx + 4);
        List<Block> blocks = new ArrayList<>();
        int count = (body.length + size - 1) / size;
        for (int n = 0; n < count; n++) {
            byte[] piece = java.util.Arrays.copyOfRange(body, n * size, Math.min(body.length, (n + 1) * size));
            blocks.add(new Block(n, n < count - 1, szx, piece, n == 0 && h.chance(30) ? body.length : -1));
        }
        switch (kind) {
            case "abandoned" -> blocks.subList(Math.max(1, h.below(blocks.size())), blocks.size()).clear();
            case "skips" -> {
                if (blocks.size() > 2) {
                    blocks.remove(1 + h.below(blocks.size() - 2));
                }
            }
            case "repeats" -> {
                int at = h.below(blocks.size());
                blocks.add(at, blocks.get(at));
            }
            case "resized" -> {
                if (blocks.size() > 1 && szx > 0) {
                    Block b = blocks.get(1);
                    blocks.set(1, new Block(b.num(), b.more(), szx - 1, b.piece(), b.size1()));
                }
            }
            case "wrong-size" -> {
                if (blocks.size() > 1) {
                    Block b = blocks.get(0);
                    blocks.set(0, new Block(b.num(), true, b.szx(),
                            java.util.Arrays.copyOf(b.piece(), Math.max(1, b.piece().length - 1 - h.below(8))), b.size1()));
                }
            }
            case "claims-too-much" -> {
                Block b = blocks.get(0);
                blocks.set(0, new Block(b.num(), b.more(), b.szx(), b.piece(), limit + 1 + h.below(1_000_000)));
            }
            case "far-start" -> {
                Block b = blocks.get(0);
                blocks.set(0, new Block(1_000_000, b.more(), b.szx(), b.piece(), b.size1()));
            }
            default -> {
                // whole, too-large: as cut
            }
        }
        return new Transfer(kind, marker, blocks);
    }

    /**
     * Sends a transfer's blocks in order while the server asks for more (2.31), and says how it ended:
     * the code of the answer to its last block ("none" if that went unanswered), or "unfinished" when
     * the client stopped before the end. A refusal on the way ends it there.
     */
    private String send(DatagramSocket socket, Transfer transfer) throws IOException {
        byte[] token = java.nio.ByteBuffer.allocate(4).putInt(transfer.marker()).array();
        for (Block b : transfer.blocks()) {
            List<Option> options = new ArrayList<>(List.of(option(11, "telemetry"), option(11, "demo"),
                    option(11, FUZZER), option(12, new byte[] {50}), option(27, block(b.num(), b.more(), b.szx()))));
            if (b.size1() >= 0) {
                options.add(option(60, java.nio.ByteBuffer.allocate(4).putInt(b.size1()).array()));
            }
            byte[] reply = answer(socket, request(0, 2, token, options, b.piece()));
            if (reply == null) {
                return "none";
            }
            String code = (reply[0] >> 4 & 3) == 3 ? "reset" : code(reply);
            if (code.startsWith("5.") && !code.equals("5.03")) {
                serverErrors.add(code + " in a transfer that " + transfer.kind());
            }
            if (!code.equals("2.31")) {
                return code;
            }
        }
        return "unfinished";
    }

    /** A Block1 value: block number, more-flag and size exponent, in as few bytes as they need. */
    private static byte[] block(int num, boolean more, int szx) {
        int v = num << 4 | (more ? 8 : 0) | szx;
        return v < 0x100 ? new byte[] {(byte) v} : v < 0x10000 ? new byte[] {(byte) (v >> 8), (byte) v}
                : new byte[] {(byte) (v >> 16), (byte) (v >> 8), (byte) v};
    }

    private static void register(String device) {
        String admin = RealInfrastructure.token("admin");
        given().auth().oauth2(admin).contentType("application/json").body("{\"enabled\":true}")
                .put("/api/registry/devices/demo/" + device).then().statusCode(lessThan(300));
    }

    private void send(DatagramSocket socket, byte[] datagram) throws IOException {
        byte[] reply = exchange(socket, datagram);
        String kind = reply == null ? "none" : reply.length < 4 ? "short" : switch ((reply[0] >> 4) & 3) {
            case 3 -> "reset";
            default -> (reply[1] & 0xff) == 0 ? "empty" : ((reply[1] & 0xff) >> 5) + ".xx";
        };
        answers.merge(kind, 1, Integer::sum);
        if (kind.equals("5.xx") && !code(reply).equals("5.03")) {
            serverErrors.add(code(reply) + " for " + java.util.HexFormat.of().formatHex(datagram, 0,
                    Math.min(80, datagram.length)));
        }
    }

    private byte[] exchange(DatagramSocket socket, byte[] datagram) throws IOException {
        socket.send(new DatagramPacket(datagram, datagram.length,
                new InetSocketAddress("127.0.0.1", adapter.plainPort())));
        return receive(socket);
    }

    /** The next datagram on the socket; null if none comes within its timeout. */
    private static byte[] receive(DatagramSocket socket) throws IOException {
        byte[] buffer = new byte[2048];
        DatagramPacket in = new DatagramPacket(buffer, buffer.length);
        try {
            socket.receive(in);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return java.util.Arrays.copyOf(buffer, in.getLength());
    }

    private static String code(byte[] reply) {
        int c = reply[1] & 0xff;
        return (c >> 5) + "." + String.format("%02d", c & 31);
    }

    /** One CoAP option: its number and value. */
    private record Option(int number, byte[] value) {
    }

    private static Option option(int number, String value) {
        return new Option(number, value.getBytes(StandardCharsets.UTF_8));
    }

    private static Option option(int number, byte[] value) {
        return new Option(number, value);
    }

    /** A message: header (version 1, type, token length), code, message id, token, options in order, payload. */
    private byte[] request(int type, int code, byte[] token, List<Option> options, byte[] payload) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x40 | type << 4 | token.length & 0x0f);
        b.write(code);
        int mid = ids.incrementAndGet();
        b.write(mid >> 8 & 0xff);
        b.write(mid & 0xff);
        b.writeBytes(token);
        int previous = 0;
        for (Option o : options.stream().sorted(java.util.Comparator.comparingInt(Option::number)).toList()) {
            int delta = o.number() - previous;
            previous = o.number();
            int length = o.value().length;
            b.write(nibble(delta) << 4 | nibble(length));
            extended(b, delta);
            extended(b, length);
            b.writeBytes(o.value());
        }
        if (payload.length > 0) {
            b.write(0xff);
            b.writeBytes(payload);
        }
        return b.toByteArray();
    }

    private static int nibble(int n) {
        return n < 13 ? n : n < 269 ? 13 : 14;
    }

    private static void extended(ByteArrayOutputStream b, int n) {
        if (n >= 269) {
            b.write((n - 269) >> 8 & 0xff);
            b.write((n - 269) & 0xff);
        } else if (n >= 13) {
            b.write(n - 13);
        }
    }

    private static byte[] bytes(Hostile h, int n) {
        byte[] b = new byte[n];
        h.random().nextBytes(b);
        return b;
    }

    /** One datagram: noise, a header with reserved values, or a request with hostile options. */
    private byte[] datagram(Hostile h) {
        return switch (h.below(10)) {
            case 0 -> bytes(h, 1 + h.below(1_200));
            case 1 -> {
                byte[] b = hostileRequest(h);
                b[0] = (byte) h.below(256); // any version, type and token length (9 to 15 are reserved)
                if (h.chance(50)) {
                    b[1] = (byte) h.below(256); // any code: responses, reserved classes
                }
                yield b;
            }
            case 2 -> {
                byte[] b = hostileRequest(h);
                if (b.length > 5) {
                    b[4 + h.below(b.length - 4)] = (byte) (h.chance(50) ? 0xff : h.below(256)); // a broken option
                }
                yield b;
            }
            default -> hostileRequest(h);
        };
    }

    private byte[] hostileRequest(Hostile h) {
        List<Option> options = new ArrayList<>();
        switch (h.below(4)) {
            case 0 -> {
                options.add(option(11, "telemetry"));
                options.add(option(11, "demo"));
                options.add(option(11, FUZZER));
            }
            case 1 -> {
                options.add(option(11, h.pick(List.of("telemetry", "t", "event", "e", "command", "command_response"))));
                options.add(option(11, h.pick(List.of("demo", "other", "", ".."))));
                options.add(option(11, h.chance(50) ? h.text() : FUZZER));
            }
            case 2 -> {
                for (int i = h.below(6); i >= 0; i--) {
                    options.add(option(11, h.text()));
                }
            }
            default -> options.add(option(11, h.pick(List.of("telemetry", "t", ".well-known", "registry"))));
        }
        for (int i = h.chance(50) ? 0 : h.below(4); i > 0; i--) {
            int number = h.pick(List.of(15, 15, 12, 17, 23, 27, 60, 3, 6, 9, 35, 258, 2049, 65001, 1 + h.below(65000)));
            byte[] value = switch (number) {
                case 15 -> h.pick(List.of("hono-ttd=" + h.text(), "feature=" + h.text(), "empty", h.text()))
                        .getBytes(StandardCharsets.UTF_8);
                case 12, 17 -> bytes(h, h.below(4)); // Content-Format and Accept: any, even 3 bytes
                default -> bytes(h, h.chance(90) ? h.below(9) : 300 + h.below(700));
            };
            options.add(option(number, value));
        }
        if (h.chance(60)) {
            options.add(option(12, new byte[] {50})); // application/json
        }
        byte[] payload = switch (h.below(4)) {
            case 0 -> new byte[0];
            case 1 -> h.notJson();
            default -> h.json().getBytes(StandardCharsets.UTF_8);
        };
        int code = h.pick(List.of(2, 2, 2, 3, 1, 4, 5, 7));
        int type = h.chance(80) ? 0 : h.below(4);
        return request(type, code, bytes(h, h.below(9)), options, payload);
    }
}

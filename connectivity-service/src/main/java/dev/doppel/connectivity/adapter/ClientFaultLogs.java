package dev.doppel.connectivity.adapter.mqtt;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Packets a client gets wrong before its CONNECT is handled (bits that must be 0, unknown packet types
 * or properties, a packet before CONNECT) fail inside vertx-mqtt, which has no handler for them yet:
 * Vert.x logged each as an ERROR, most with a stack trace, so anyone who could open a socket could fill
 * the log (MqttFuzzIT: 2,600 ERROR lines for 10,000 connections). A filter on the two loggers they
 * come through takes those records out and counts them instead in
 * {@code doppel_mqtt_rejected_total{reason="malformed-packet"}}, saying so once in the log. The
 * connection is closed by Vert.x as before. Every other record passes.
 */
@Startup
@ApplicationScoped
public class MalformedPackets implements Filter {

    private static final List<String> LOGGERS = List.of("io.vertx.core.net.impl.ConnectionBase",
            "io.quarkus.vertx.core.runtime.VertxCoreRecorder");

    private final LongAdder rejected = new LongAdder();
    private final AtomicBoolean said = new AtomicBoolean();

    MalformedPackets(MeterRegistry metrics) {
        FunctionCounter.builder("doppel.mqtt.rejected", rejected, LongAdder::sum).tag("reason", "malformed-packet")
                .description("MQTT messages refused, by reason").register(metrics);
        for (String name : LOGGERS) {
            Logger logger = Logger.getLogger(name);
            Filter before = logger.getFilter();
            logger.setFilter(before == null ? this : r -> isLoggable(r) && before.isLoggable(r));
        }
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        if (!fromMqtt(record.getThrown()) && !(record.getThrown() == null && decoderMessage(record.getMessage()))) {
            return true;
        }
        rejected.increment();
        if (said.compareAndSet(false, true)) {
            Logger.getLogger(MalformedPackets.class.getName()).log(Level.INFO, "malformed MQTT packets are counted in "
                    + "doppel_mqtt_rejected_total{reason=\"malformed-packet\"}, not logged (first: " + message(record) + ")");
        }
        return false;
    }

    /**
     * Raised by the MQTT codec itself (Netty's decoder, vertx-mqtt's packet handling: a packet before
     * CONNECT, an unknown reason code) while reading what a client sent, not by this service's handlers
     * it calls.
     */
    static boolean fromMqtt(Throwable t) {
        for (int depth = 0; t != null && depth < 4; t = t.getCause(), depth++) {
            StackTraceElement[] stack = t.getStackTrace();
            if (stack.length > 0 && (stack[0].getClassName().startsWith("io.vertx.mqtt.")
                    || stack[0].getClassName().startsWith("io.netty.handler.codec.mqtt."))) {
                return true;
            }
        }
        return false;
    }

    /**
     * What Netty's MQTT decoder says of a packet it cannot decode, as Vert.x logs it (the message alone,
     * no exception) for a connection that has no handler yet. MqttFuzzIT fails if one is missed.
     */
    private static final List<String> DECODER_MESSAGES = List.of("illegal bit", "illegal qos level",
            "mqtt protocol limits", "unknown message type", "unknown property type", "invalid clientidentifier",
            "invalid messageid", "invalid publish topic name", "message length exceeds", "non-zero remaining payload",
            "non-zero reserved flag", "remaining length exceeds", "auth message requires", "subscription id must be",
            "user property must be", "invalid protocol name", "unknown mqtt version", "unknown connect return code",
            "unknown reason code");

    static boolean decoderMessage(String message) {
        if (message == null) {
            return false;
        }
        String m = message.toLowerCase(java.util.Locale.ROOT);
        for (String known : DECODER_MESSAGES) {
            if (m.contains(known)) {
                return true;
            }
        }
        return false;
    }

    private static String message(LogRecord record) {
        Throwable t = record.getThrown();
        return t == null ? record.getMessage() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}

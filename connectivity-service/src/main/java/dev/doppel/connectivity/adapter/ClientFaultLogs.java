package dev.doppel.connectivity.adapter;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Some client faults fail inside a protocol library before any handler of this service sees them, and
 * the library logs each as an ERROR, often with a stack trace, so anyone who can reach the port could
 * fill the log:
 * <ul>
 * <li>MQTT: packets a client gets wrong before its CONNECT is handled (bits that must be 0, unknown
 * packet types, properties or reason codes, a packet before CONNECT) fail in Netty's decoder or
 * vertx-mqtt, and Vert.x logs them (MqttFuzzIT: 2,615 ERROR lines for 10,000 connections);</li>
 * <li>CoAP: a request whose payload is larger than its own Block1 size fails in Californium's parser,
 * which logs it as an exception in its protocol stage (CoapFuzzIT).</li>
 * </ul>
 * A filter on the loggers they come through takes those records out and counts them instead
 * ({@code doppel_mqtt_rejected_total{reason="malformed-packet"}},
 * {@code doppel_coap_messages_total{channel="unknown",outcome="malformed-message"}}), saying so once
 * per kind in the log. The library handles the connection or datagram as before. Every other record,
 * exceptions from this service's own handlers included, passes.
 */
@Startup
@ApplicationScoped
public class ClientFaultLogs {

    /** One kind of client fault: how to know it, where it is counted, whether the log was told. */
    private record Kind(String name, Predicate<LogRecord> matches, LongAdder count, AtomicBoolean said)
            implements Filter {

        @Override
        public boolean isLoggable(LogRecord record) {
            if (!matches.test(record)) {
                return true;
            }
            count.increment();
            if (said.compareAndSet(false, true)) {
                Logger.getLogger(ClientFaultLogs.class.getName()).log(Level.INFO, name + " are counted, not logged "
                        + "(the first: " + message(record) + ")");
            }
            return false;
        }
    }

    ClientFaultLogs(MeterRegistry metrics) {
        Kind mqtt = kind("malformed MQTT packets", List.of("io.vertx.core.net.impl.ConnectionBase",
                "io.quarkus.vertx.core.runtime.VertxCoreRecorder"), r -> raisedBy(r.getThrown(),
                        "io.vertx.mqtt.", "io.netty.handler.codec.mqtt.")
                        || r.getThrown() == null && mqttDecoderMessage(r.getMessage()));
        FunctionCounter.builder("doppel.mqtt.rejected", mqtt.count(), LongAdder::sum).tag("reason", "malformed-packet")
                .description("MQTT messages refused, by reason").register(metrics);
        Kind coap = kind("malformed CoAP messages", List.of("org.eclipse.californium.core.network.CoapEndpoint"),
                r -> raisedBy(r.getThrown(), "org.eclipse.californium.core.coap.",
                        "org.eclipse.californium.core.network.serialization."));
        FunctionCounter.builder("doppel.coap.messages", coap.count(), LongAdder::sum).tag("channel", "unknown")
                .tag("outcome", "malformed-message").description("CoAP requests by channel and outcome")
                .register(metrics);
    }

    private static Kind kind(String name, List<String> loggers, Predicate<LogRecord> matches) {
        Kind kind = new Kind(name, matches, new LongAdder(), new AtomicBoolean());
        for (String loggerName : loggers) {
            Logger logger = Logger.getLogger(loggerName);
            Filter before = logger.getFilter();
            logger.setFilter(before == null ? kind : r -> kind.isLoggable(r) && before.isLoggable(r));
        }
        return kind;
    }

    /**
     * Raised by the library itself (its code at the top of the stack) while reading what a client sent,
     * not by a handler of this service it called.
     */
    static boolean raisedBy(Throwable t, String... packages) {
        for (int depth = 0; t != null && depth < 4; t = t.getCause(), depth++) {
            StackTraceElement[] stack = t.getStackTrace();
            if (stack.length > 0) {
                for (String p : packages) {
                    if (stack[0].getClassName().startsWith(p)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * What Netty's MQTT decoder says of a packet it cannot decode, as Vert.x logs it (the message alone,
     * no exception) for a connection that has no handler yet. MqttFuzzIT fails if one is missed.
     */
    private static final List<String> MQTT_DECODER_MESSAGES = List.of("illegal bit", "illegal qos level",
            "mqtt protocol limits", "unknown message type", "unknown property type", "invalid clientidentifier",
            "invalid messageid", "invalid publish topic name", "message length exceeds", "non-zero remaining payload",
            "non-zero reserved flag", "remaining length exceeds", "auth message requires", "subscription id must be",
            "user property must be", "invalid protocol name", "unknown mqtt version", "unknown connect return code",
            "unknown reason code");

    static boolean mqttDecoderMessage(String message) {
        if (message == null) {
            return false;
        }
        String m = message.toLowerCase(Locale.ROOT);
        for (String known : MQTT_DECODER_MESSAGES) {
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

package dev.doppel.connectivity.adapter.modbus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.ghgande.j2mod.modbus.ModbusException;
import com.ghgande.j2mod.modbus.io.ModbusTCPTransaction;
import com.ghgande.j2mod.modbus.msg.ModbusRequest;
import com.ghgande.j2mod.modbus.msg.ModbusResponse;
import com.ghgande.j2mod.modbus.msg.ReadInputRegistersRequest;
import com.ghgande.j2mod.modbus.msg.ReadInputRegistersResponse;
import com.ghgande.j2mod.modbus.msg.ReadMultipleRegistersRequest;
import com.ghgande.j2mod.modbus.msg.ReadMultipleRegistersResponse;
import com.ghgande.j2mod.modbus.msg.WriteMultipleRegistersRequest;
import com.ghgande.j2mod.modbus.msg.WriteMultipleRegistersResponse;
import com.ghgande.j2mod.modbus.net.TCPMasterConnection;
import com.ghgande.j2mod.modbus.procimg.InputRegister;
import com.ghgande.j2mod.modbus.procimg.Register;
import com.ghgande.j2mod.modbus.procimg.SimpleRegister;
import dev.doppel.connectivity.adapter.modbus.ModbusPlan.Block;
import dev.doppel.connectivity.adapter.modbus.ModbusPlan.Table;
import dev.doppel.connectivity.command.CommandRouter;
import dev.doppel.connectivity.command.CommandSink;
import dev.doppel.connectivity.egress.EgressPolicy;
import dev.doppel.connectivity.messaging.DownstreamSender;
import dev.doppel.contracts.CommandRequested;
import dev.doppel.contracts.CommandStatus;
import dev.doppel.contracts.CommandStatusChanged;
import dev.doppel.contracts.DeviceConnectionChanged;
import dev.doppel.contracts.TelemetryReceived;
import dev.doppel.contracts.ThingId;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * One Modbus TCP device being polled by this instance: reads its plan's registers every period and
 * reports them as telemetry, acknowledged by Kafka before the next poll. A device that does not answer
 * is reported disconnected once and retried with a doubling back-off; the first answer after that
 * reports it connected. It is also the device's command sink: {@code modbus.write} writes holding
 * registers, and the slave's acknowledgement is the command's {@code DELIVERED}.
 */
final class PolledDevice implements CommandSink {

    static final String TRANSPORT = "modbus";
    static final String WRITE = "modbus.write";
    private static final Logger LOG = Logger.getLogger(PolledDevice.class);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);

    private final ThingId id;
    private final ModbusPlan plan;
    private final ScheduledExecutorService executor;
    private final ScheduledExecutorService watchdog;
    private final CommandRouter router;
    private final DownstreamSender downstream;
    private final MeterRegistry metrics;
    private final ObjectMapper json;
    private final EgressPolicy egress;
    private final Duration timeout;
    private final Duration maxBackoff;

    private TCPMasterConnection connection;
    /** Null until the first poll tells; then whether the last poll reached the device. */
    private volatile Boolean reachable;
    private int failures;
    private volatile boolean stopped;
    private volatile ScheduledFuture<?> next;
    /** Set when the watchdog cut the last exchange off. */
    private volatile boolean cutOff;

    PolledDevice(ThingId id, ModbusPlan plan, ScheduledExecutorService executor, ScheduledExecutorService watchdog,
            CommandRouter router, DownstreamSender downstream, MeterRegistry metrics, ObjectMapper json,
            EgressPolicy egress, Duration timeout, Duration maxBackoff) {
        this.egress = egress;
        this.id = id;
        this.plan = plan;
        this.executor = executor;
        this.watchdog = watchdog;
        this.router = router;
        this.downstream = downstream;
        this.metrics = metrics;
        this.json = json;
        this.timeout = timeout;
        this.maxBackoff = maxBackoff;
    }

    ModbusPlan plan() {
        return plan;
    }

    ThingId id() {
        return id;
    }

    void start() {
        router.register(id.toString(), this);
        schedule(0);
    }

    void stop() {
        stopped = true;
        router.unregister(id.toString(), this);
        ScheduledFuture<?> pending = next;
        if (pending != null) {
            pending.cancel(false);
        }
        executor.execute(() -> {
            synchronized (this) {
                close();
            }
        });
    }

    private void schedule(long delayMs) {
        if (!stopped) {
            next = executor.schedule(this::poll, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    /** One poll, then the next one scheduled, whatever happened. Serialised with writes and stop per device. */
    private void poll() {
        long nextDelay = plan.periodMs();
        try {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                nextDelay = pollOnce();
            }
        } catch (RuntimeException e) {
            LOG.errorf(e, "polling Modbus device %s failed", id);
        }
        schedule(nextDelay);
    }

    /** Returns how long to wait before the next poll. */
    private long pollOnce() {
        Map<String, Object> values;
        try {
            values = read();
        } catch (Exception e) {
            if (stopped) {
                return 0; // stopped while reading: nothing is scheduled any more
            }
            failures++;
            close();
            metrics.counter("doppel.modbus.polls", "outcome", cutOff ? "too-slow" : "unreachable").increment();
            if (!Boolean.FALSE.equals(reachable)) {
                LOG.warnf("Modbus device %s at %s:%d does not answer: %s", id, plan.host(), plan.port(), e.toString());
                announce(false);
            }
            reachable = false;
            // Twice the period, then four times ..., capped, but never sooner than the plan's own period.
            return Math.max(plan.periodMs(), Math.min(maxBackoff.toMillis(), plan.periodMs() << Math.min(failures, 16)));
        }
        failures = 0;
        if (!Boolean.TRUE.equals(reachable)) {
            announce(true);
        }
        reachable = true;
        try {
            downstream.report(TelemetryReceived.of(UUID.randomUUID().toString(), id, "telemetry",
                    Map.of(plan.feature(), values), null, Instant.now().truncatedTo(ChronoUnit.MICROS), TRANSPORT))
                    .await().atMost(SEND_TIMEOUT);
            metrics.counter("doppel.modbus.polls", "outcome", "reported").increment();
        } catch (RuntimeException e) {
            metrics.counter("doppel.modbus.polls", "outcome", "not-sent").increment();
            LOG.warnf("could not send the values of Modbus device %s: %s", id, e.getMessage());
        }
        return plan.periodMs();
    }

    /** Reads every register of the plan, in as few requests as Modbus allows. */
    private Map<String, Object> read() throws Exception {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Block block : plan.blocks()) {
            InputRegister[] registers = block.table() == Table.holding
                    ? exchange(new ReadMultipleRegistersRequest(block.address(), block.words()),
                            ReadMultipleRegistersResponse.class).getRegisters()
                    : exchange(new ReadInputRegistersRequest(block.address(), block.words()),
                            ReadInputRegistersResponse.class).getRegisters();
            if (registers == null || registers.length != block.words()) {
                throw new ModbusException("asked for " + block.words() + " registers, the device answered "
                        + (registers == null ? "none" : registers.length));
            }
            int[] words = new int[registers.length];
            for (int i = 0; i < registers.length; i++) {
                words[i] = registers[i].getValue();
            }
            for (ModbusPlan.Register r : block.registers()) {
                Number value = r.decode(words, r.address() - block.address());
                if (value != null) { // a float32 NaN or infinity: "no value" on many meters
                    values.put(r.name(), value);
                }
            }
        }
        return values;
    }

    /**
     * One request to the device and its answer, which must be the one asked for (the same unit, the
     * type of the request): anything else is the device failing, not data. Cut off (its connection
     * closed) once it has taken the timeout in all: j2mod's timeout bounds each read from the socket,
     * not the answer, so a device that drips its answer a byte at a time would otherwise hold this
     * thread, one of the few every tenant's devices share, for minutes (ModbusFuzzIT).
     */
    private <T extends ModbusResponse> T exchange(ModbusRequest request, Class<T> expected) throws Exception {
        TCPMasterConnection c = connected();
        request.setUnitID(plan.unitId());
        ModbusTCPTransaction transaction = new ModbusTCPTransaction(c);
        transaction.setRequest(request);
        transaction.setRetries(1); // a silent device costs one timeout per poll, not j2mod's default five
        cutOff = false;
        ScheduledFuture<?> cut = watchdog.schedule(() -> {
            cutOff = true;
            c.close(); // not synchronized: the blocked read fails at once
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        ModbusResponse response;
        try {
            transaction.execute();
            response = transaction.getResponse();
        } finally {
            cut.cancel(false);
        }
        if (!expected.isInstance(response) || response.getUnitID() != plan.unitId()) {
            throw new ModbusException("the device answered " + (response == null ? "nothing"
                    : response.getClass().getSimpleName() + " from unit " + response.getUnitID()) + " to "
                    + request.getClass().getSimpleName() + " for unit " + plan.unitId());
        }
        return expected.cast(response);
    }

    private TCPMasterConnection connected() throws Exception {
        if (connection == null) {
            // Checked at every connection, and the connection goes to the address checked.
            InetAddress address = egress.check(id.tenant(), plan.host(), plan.port(), "modbus").await().atMost(timeout);
            TCPMasterConnection c = new TCPMasterConnection(address);
            c.setPort(plan.port());
            c.setTimeout((int) timeout.toMillis());
            c.connect();
            connection = c;
        }
        return connection;
    }

    private void close() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    private void announce(boolean connected) {
        downstream.connection(new DeviceConnectionChanged(UUID.randomUUID().toString(), id.toString(),
                connected ? -1 : 0, TRANSPORT, Instant.now())).subscribe().with(ok -> { },
                f -> LOG.warnf("could not report the connection of %s: %s", id, f.getMessage()));
    }

    @Override
    public String transport() {
        return TRANSPORT;
    }

    /** Commands wait (queued in command-service) until a poll has reached the device. */
    @Override
    public boolean ready() {
        return Boolean.TRUE.equals(reachable);
    }

    @Override
    public void deliver(CommandRequested command) {
        executor.execute(() -> {
            try {
                synchronized (this) {
                    write(command);
                }
            } catch (RuntimeException e) {
                LOG.errorf(e, "command %s for Modbus device %s failed", command.commandId(), id);
                fail(command, 502, "the command could not be carried out: " + e.getMessage());
            }
        });
    }

    /**
     * {@code modbus.write} with {@code {"register": "setpoint", "value": 21.5}} or
     * {@code {"values": {"setpoint": 21.5, "mode": 2}}}: writes holding registers of the plan, each
     * encoded by its type and scale.
     */
    private void write(CommandRequested command) {
        if (!WRITE.equals(command.subject())) {
            fail(command, 400, "a Modbus device takes only '" + WRITE + "' commands, not '" + command.subject() + "'");
            return;
        }
        Map<ModbusPlan.Register, Double> writes;
        try {
            writes = parse(command.payload());
        } catch (IllegalArgumentException e) {
            fail(command, 400, e.getMessage());
            return;
        }
        router.reportStep(command, CommandStatus.SENT, TRANSPORT).await().atMost(SEND_TIMEOUT);
        try {
            for (var w : writes.entrySet()) {
                int[] words = w.getKey().encode(w.getValue());
                Register[] registers = new Register[words.length];
                for (int i = 0; i < words.length; i++) {
                    registers[i] = new SimpleRegister(words[i]);
                }
                exchange(new WriteMultipleRegistersRequest(w.getKey().address(), registers),
                        WriteMultipleRegistersResponse.class);
            }
        } catch (Exception e) {
            close();
            metrics.counter("doppel.modbus.writes", "outcome", "failed").increment();
            fail(command, 502, "the Modbus device did not take the write: " + e.getMessage());
            return;
        }
        metrics.counter("doppel.modbus.writes", "outcome", "written").increment();
        // The slave's answer to the write is its acknowledgement.
        router.reportStep(command, CommandStatus.DELIVERED, TRANSPORT).await().atMost(SEND_TIMEOUT);
        if (command.responseRequired()) {
            Uni<Void> answered = router.respond(id.toString(), command.commandId(), 204, null, new byte[0], TRANSPORT);
            if (answered != null) {
                answered.await().atMost(SEND_TIMEOUT);
            }
        }
    }

    private Map<ModbusPlan.Register, Double> parse(byte[] payload) {
        JsonNode body;
        try {
            body = json.readTree(payload == null ? new byte[0] : payload);
        } catch (IOException e) {
            throw new IllegalArgumentException("the payload is not JSON");
        }
        Map<ModbusPlan.Register, Double> writes = new LinkedHashMap<>();
        if (body != null && body.has("register")) {
            put(writes, body.path("register").asText(), body.get("value"));
        } else if (body != null && body.path("values").isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = body.get("values").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                put(writes, e.getKey(), e.getValue());
            }
        }
        if (writes.isEmpty()) {
            throw new IllegalArgumentException(
                    "expected {\"register\": name, \"value\": number} or {\"values\": {name: number, ...}}");
        }
        return writes;
    }

    private void put(Map<ModbusPlan.Register, Double> writes, String name, JsonNode value) {
        ModbusPlan.Register r = plan.register(name);
        if (r == null || r.table() != Table.holding) {
            throw new IllegalArgumentException("'" + name + "' is not a holding register of this device's plan");
        }
        if (value == null || !value.isNumber()) {
            throw new IllegalArgumentException("the value of '" + name + "' must be a number");
        }
        r.encode(value.asDouble()); // fails here, before anything is written, if it does not fit
        writes.put(r, value.asDouble());
    }

    private void fail(CommandRequested command, int status, String detail) {
        metrics.counter("doppel.modbus.writes", "outcome", "rejected").increment();
        downstream.commandStatus(new CommandStatusChanged(UUID.randomUUID().toString(), command.commandId(),
                command.thingId(), CommandStatus.FAILED, status, status == 400 ? "invalid-command" : "device-error",
                "text/plain", detail.getBytes(StandardCharsets.UTF_8), Instant.now(), TRANSPORT))
                .subscribe().with(ok -> { }, f -> LOG.warnf("could not report the failure of command %s: %s",
                        command.commandId(), f.getMessage()));
    }
}

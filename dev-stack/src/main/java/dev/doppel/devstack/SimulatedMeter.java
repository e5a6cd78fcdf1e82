package dev.doppel.devstack;

import com.ghgande.j2mod.modbus.ModbusException;
import com.ghgande.j2mod.modbus.procimg.SimpleInputRegister;
import com.ghgande.j2mod.modbus.procimg.SimpleProcessImage;
import com.ghgande.j2mod.modbus.procimg.SimpleRegister;
import com.ghgande.j2mod.modbus.slave.ModbusSlave;
import com.ghgande.j2mod.modbus.slave.ModbusSlaveFactory;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A smart electricity meter on Modbus TCP (M2M), as a real Modbus slave (j2mod): voltage and power
 * (float32, holding 0-3), a writable tariff setpoint (int16 in tenths, holding 4) and the energy
 * counter (uint32 Wh, input 0-1), which grows with the power drawn. Connectivity polls it.
 */
public final class SimulatedMeter implements AutoCloseable {

    public static final int UNIT = 1;

    private final SimpleProcessImage image = new SimpleProcessImage(UNIT);
    private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "simulated-meter");
        t.setDaemon(true);
        return t;
    });
    private final SimpleInputRegister energyHigh = new SimpleInputRegister(0);
    private final SimpleInputRegister energyLow = new SimpleInputRegister(0);
    private ModbusSlave slave;
    private double energyWh = 1_250_000;

    /** The poll plan connectivity uses for this meter (see docs/modbus.md). */
    public static String plan(int port, long periodMillis) {
        return String.format(Locale.ROOT, """
                {"host": "127.0.0.1", "port": %d, "unitId": %d, "periodMs": %d, "feature": "meter",
                 "registers": [
                   {"name": "voltage", "address": 0, "type": "float32"},
                   {"name": "power", "address": 2, "type": "float32"},
                   {"name": "tariff", "address": 4, "type": "int16", "scale": 0.1},
                   {"name": "energy", "table": "input", "address": 0, "type": "uint32", "scale": 0.001}
                 ]}""", port, UNIT, periodMillis);
    }

    public void start(int port) throws ModbusException {
        for (int i = 0; i < 4; i++) {
            image.addRegister(new SimpleRegister(0));
        }
        image.addRegister(new SimpleRegister(285)); // 28.5 ct/kWh
        image.addInputRegister(energyHigh);
        image.addInputRegister(energyLow);
        tick(1);
        slave = ModbusSlaveFactory.createTCPSlave(port, 4);
        slave.addProcessImage(UNIT, image);
        slave.open();
        clock.scheduleAtFixedRate(() -> tick(1), 1, 1, TimeUnit.SECONDS);
    }

    private synchronized void tick(double seconds) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        float volts = (float) (230 + r.nextGaussian() * 1.5);
        float watts = (float) (1800 + r.nextGaussian() * 250);
        energyWh += watts * seconds / 3600;
        setFloat(0, volts);
        setFloat(2, watts);
        long wh = (long) energyWh;
        energyHigh.setValue((int) (wh >>> 16) & 0xFFFF);
        energyLow.setValue((int) wh & 0xFFFF);
    }

    private void setFloat(int address, float value) {
        int bits = Float.floatToIntBits(value);
        image.getRegister(address).setValue(bits >>> 16);
        image.getRegister(address + 1).setValue(bits & 0xFFFF);
    }

    @Override
    public void close() {
        clock.shutdownNow();
        if (slave != null) {
            slave.close();
        }
    }
}

package dev.doppel.connectivity.adapter.modbus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.adapter.modbus.ModbusPlan.Register;
import dev.doppel.connectivity.adapter.modbus.ModbusPlan.Table;
import dev.doppel.connectivity.adapter.modbus.ModbusPlan.Type;
import dev.doppel.connectivity.adapter.modbus.ModbusPlan.WordOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How register words become values and back, how registers are grouped into reads, what a plan must say. */
class ModbusPlanTest {

    private static Register reg(String name, int address, Type type, WordOrder order, double scale) {
        return new Register(name, Table.holding, address, type, order, scale);
    }

    @Test
    void wordsDecodeByTypeWordOrderAndScale() {
        int bits = Float.floatToIntBits(230.5f);
        int high = bits >>> 16;
        int low = bits & 0xFFFF;
        assertEquals(230.5, reg("v", 0, Type.float32, WordOrder.big, 1).decode(new int[] {high, low}, 0)
                .doubleValue(), 1e-9);
        assertEquals(230.5, reg("v", 0, Type.float32, WordOrder.little, 1).decode(new int[] {low, high}, 0)
                .doubleValue(), 1e-9);
        assertEquals(-2L, reg("t", 0, Type.int16, WordOrder.big, 1).decode(new int[] {0xFFFE}, 0));
        assertEquals(65534L, reg("t", 0, Type.uint16, WordOrder.big, 1).decode(new int[] {0xFFFE}, 0));
        // 0x0001_0000 = 65536 Wh at 0.001 = 65.536 kWh
        assertEquals(65.536, reg("e", 0, Type.uint32, WordOrder.big, 0.001).decode(new int[] {1, 0}, 0)
                .doubleValue(), 1e-9);
        assertEquals(4294967295L, reg("e", 0, Type.uint32, WordOrder.big, 1).decode(new int[] {0xFFFF, 0xFFFF}, 0));
        assertEquals(-1L, reg("e", 0, Type.int32, WordOrder.little, 1).decode(new int[] {7, 0xFFFF, 0xFFFF}, 1));
        // Scaled and float values come out as a person writes them, not with binary noise.
        assertEquals(31.2, reg("t", 0, Type.int16, WordOrder.big, 0.1).decode(new int[] {312}, 0));
        int f = Float.floatToIntBits(229.7f);
        assertEquals(229.7, reg("v", 0, Type.float32, WordOrder.big, 1).decode(new int[] {f >>> 16, f & 0xFFFF}, 0));
    }

    @Test
    void writesEncodeBackAndRefuseWhatDoesNotFit() {
        Register setpoint = reg("sp", 0, Type.int16, WordOrder.big, 0.1);
        assertArrayEquals(new int[] {215}, setpoint.encode(21.5));
        assertArrayEquals(new int[] {0xFFFF & -50}, setpoint.encode(-5.0));
        assertThrows(IllegalArgumentException.class, () -> setpoint.encode(4000.0));
        Register limit = reg("l", 0, Type.uint32, WordOrder.little, 1);
        assertArrayEquals(new int[] {0, 1}, limit.encode(65536));
        assertThrows(IllegalArgumentException.class, () -> limit.encode(-1));
        Register f = reg("f", 0, Type.float32, WordOrder.big, 1);
        assertEquals(50.25, f.decode(f.encode(50.25), 0).doubleValue(), 1e-9);
    }

    @Test
    void adjacentRegistersAreReadTogetherAndGapsOrTheModbusLimitSplitReads() {
        List<Register> registers = new ArrayList<>();
        registers.add(new Register("a", Table.holding, 0, Type.float32, null, null));
        registers.add(new Register("b", Table.holding, 2, Type.uint16, null, null));
        registers.add(new Register("c", Table.holding, 10, Type.int32, null, null));
        registers.add(new Register("d", Table.input, 5, Type.uint16, null, null));
        for (int i = 0; i < 64; i++) { // 128 adjacent words: more than one read may ask for
            registers.add(new Register("w" + i, Table.input, 100 + 2 * i, Type.uint32, null, null));
        }
        ModbusPlan plan = new ModbusPlan("meter", null, null, null, null, registers).validated();
        List<ModbusPlan.Block> blocks = plan.blocks();
        assertEquals(new ModbusPlan.Block(Table.holding, 0, 3, plan.registers().subList(0, 2)), blocks.get(0));
        assertEquals(new ModbusPlan.Block(Table.holding, 10, 2, plan.registers().subList(2, 3)), blocks.get(1));
        assertEquals(new ModbusPlan.Block(Table.input, 5, 1, plan.registers().subList(3, 4)), blocks.get(2));
        assertEquals(124, blocks.get(3).words());
        assertEquals(new ModbusPlan.Block(Table.input, 224, 4, plan.registers().subList(66, 68)), blocks.get(4));
        assertEquals(5, blocks.size());
    }

    @Test
    void aFloatThatIsNotANumberHasNoValue() {
        int nan = Float.floatToIntBits(Float.NaN);
        assertEquals(null, reg("v", 0, Type.float32, WordOrder.big, 1).decode(new int[] {nan >>> 16, nan & 0xFFFF}, 0));
    }

    @Test
    void aPlanGetsDefaultsAndSaysEverythingThatIsWrong() {
        ModbusPlan plan = new ModbusPlan("10.0.0.5", null, null, null, null,
                List.of(new Register("energy", null, 0, null, null, null))).validated();
        assertEquals(502, plan.port());
        assertEquals(1, plan.unitId());
        assertEquals(10_000L, plan.periodMs());
        assertEquals("modbus", plan.feature());
        assertEquals(new Register("energy", Table.holding, 0, Type.uint16, WordOrder.big, 1.0), plan.registers().get(0));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ModbusPlan(" ", 70000, 1,
                10L, "a b", List.of(new Register("x", null, 0, null, null, 0.0), new Register("x", null, 65535,
                        Type.float32, null, null), new Register("$bad", null, 1, null, null, null))).validated());
        for (String expected : List.of("host", "port", "periodMs", "feature", "scale", "used twice",
                "runs past the last register", "'$bad'")) {
            assertTrue(e.getMessage().contains(expected), expected + " in: " + e.getMessage());
        }
    }
}

package dev.doppel.connectivity.adapter.modbus;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How one Modbus TCP device is polled: where it is, which registers to read how often, and how each
 * register's 16-bit words become a value. Its registers become the properties of one twin feature.
 *
 * @param periodMs between the end of one poll and the start of the next
 * @param feature  the twin feature the values go to
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModbusPlan(String host, Integer port, Integer unitId, Long periodMs, String feature,
        List<Register> registers) {

    /** The most words one read may ask for (Modbus' own limit). */
    static final int MAX_WORDS_PER_READ = 125;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    public enum Table { holding, input }

    public enum Type {
        int16(1), uint16(1), int32(2), uint32(2), float32(2);

        final int words;

        Type(int words) {
            this.words = words;
        }
    }

    /** {@code big}: the high word first (the usual Modbus convention); {@code little}: the low word first. */
    public enum WordOrder { big, little }

    /**
     * One value: {@code type} at {@code address} in {@code table}, times {@code scale}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Register(String name, Table table, Integer address, Type type, WordOrder wordOrder, Double scale) {

        @JsonIgnore
        int words() {
            return type.words;
        }

        /**
         * The value in {@code words} from {@code offset}: an integer when it is one, else a double;
         * null for a float32 that is not a number or infinite.
         */
        Number decode(int[] words, int offset) {
            long raw = switch (type) {
                case int16 -> (short) words[offset];
                case uint16 -> words[offset] & 0xFFFF;
                case int32, float32, uint32 -> {
                    int high = wordOrder == WordOrder.little ? words[offset + 1] : words[offset];
                    int low = wordOrder == WordOrder.little ? words[offset] : words[offset + 1];
                    int bits = (high & 0xFFFF) << 16 | (low & 0xFFFF);
                    yield type == Type.uint32 ? bits & 0xFFFFFFFFL : bits;
                }
            };
            double factor = scale == null ? 1.0 : scale;
            if (type == Type.float32 && !Float.isFinite(Float.intBitsToFloat((int) raw))) {
                return null;
            }
            if (type != Type.float32 && factor == 1.0) {
                return raw;
            }
            // In decimal, so that 312 at 0.1 is 31.2 and a float32 229.7 stays 229.7 (not 31.200000000000003
            // or 229.6999969482422, which binary arithmetic would give).
            BigDecimal value = type == Type.float32 ? new BigDecimal(Float.toString(Float.intBitsToFloat((int) raw)))
                    : BigDecimal.valueOf(raw);
            return value.multiply(BigDecimal.valueOf(factor)).doubleValue();
        }

        /** The words that hold {@code value} (before scaling): what a write of this register sends. */
        int[] encode(double value) {
            double raw = value / (scale == null ? 1.0 : scale);
            if (type == Type.float32) {
                int bits = Float.floatToIntBits((float) raw);
                return order(bits >>> 16, bits & 0xFFFF);
            }
            long n = Math.round(raw);
            long min = switch (type) {
                case int16 -> Short.MIN_VALUE;
                case int32 -> Integer.MIN_VALUE;
                default -> 0;
            };
            long max = switch (type) {
                case int16 -> Short.MAX_VALUE;
                case uint16 -> 0xFFFF;
                case int32 -> Integer.MAX_VALUE;
                default -> 0xFFFFFFFFL;
            };
            if (n < min || n > max) {
                throw new IllegalArgumentException(value + " does not fit register '" + name + "' (" + type + ")");
            }
            if (type.words == 1) {
                return new int[] {(int) (n & 0xFFFF)};
            }
            return order((int) (n >>> 16) & 0xFFFF, (int) (n & 0xFFFF));
        }

        private int[] order(int high, int low) {
            return wordOrder == WordOrder.little ? new int[] {low, high} : new int[] {high, low};
        }
    }

    /**
     * Registers read together in one request: same table, adjacent (a gap could hold addresses the
     * device does not have, which fails the whole read), at most {@link #MAX_WORDS_PER_READ} words.
     */
    record Block(Table table, int address, int words, List<Register> registers) {
    }

    /** The plan with its defaults filled in, or an exception that says what is wrong. */
    public ModbusPlan validated() {
        List<String> problems = new ArrayList<>();
        if (host == null || host.isBlank() || host.length() > 253) {
            problems.add("host is required");
        }
        if (port != null && (port < 1 || port > 65535)) {
            problems.add("port must be 1 to 65535");
        }
        if (unitId != null && (unitId < 0 || unitId > 255)) {
            problems.add("unitId must be 0 to 255");
        }
        if (periodMs != null && (periodMs < 100 || periodMs > 3_600_000)) {
            problems.add("periodMs must be 100 to 3600000");
        }
        if (feature != null && !NAME.matcher(feature).matches()) {
            problems.add("feature must be 1 to 64 letters, digits, '_' or '-'");
        }
        List<Register> checked = new ArrayList<>();
        if (registers == null || registers.isEmpty() || registers.size() > 250) {
            problems.add("registers must list 1 to 250 registers");
        } else {
            for (Register r : registers) {
                String at = "register '" + (r == null ? null : r.name()) + "': ";
                if (r == null || r.name() == null || !NAME.matcher(r.name()).matches()) {
                    problems.add(at + "name must be 1 to 64 letters, digits, '_' or '-'");
                    continue;
                }
                if (r.address() == null || r.address() < 0 || r.address() > 65535) {
                    problems.add(at + "address must be 0 to 65535");
                    continue;
                }
                Type type = r.type() == null ? Type.uint16 : r.type();
                if (r.address() + type.words > 65536) {
                    problems.add(at + "runs past the last register");
                }
                if (r.scale() != null && (r.scale() == 0 || r.scale().isNaN() || r.scale().isInfinite())) {
                    problems.add(at + "scale must be a finite number other than 0");
                }
                if (checked.stream().anyMatch(c -> c.name().equals(r.name()))) {
                    problems.add(at + "name used twice");
                }
                checked.add(new Register(r.name(), r.table() == null ? Table.holding : r.table(), r.address(), type,
                        r.wordOrder() == null ? WordOrder.big : r.wordOrder(), r.scale() == null ? 1.0 : r.scale()));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return new ModbusPlan(host.trim(), port == null ? 502 : port, unitId == null ? 1 : unitId,
                periodMs == null ? 10_000L : periodMs, feature == null ? "modbus" : feature, List.copyOf(checked));
    }

    /** The register by name, if the plan has it. */
    Register register(String name) {
        return registers.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }

    /** The registers grouped into as few reads as Modbus allows (a validated plan only). */
    List<Block> blocks() {
        List<Block> blocks = new ArrayList<>();
        for (Table table : Table.values()) {
            List<Register> sorted = registers.stream().filter(r -> r.table() == table)
                    .sorted(Comparator.comparingInt(Register::address)).toList();
            List<Register> current = new ArrayList<>();
            int start = -1;
            int end = -1;
            for (Register r : sorted) {
                int rEnd = r.address() + r.words();
                if (start >= 0 && (r.address() > end || Math.max(end, rEnd) - start > MAX_WORDS_PER_READ)) {
                    blocks.add(new Block(table, start, end - start, List.copyOf(current)));
                    current.clear();
                    start = -1;
                }
                if (start < 0) {
                    start = r.address();
                    end = rEnd;
                }
                end = Math.max(end, rEnd);
                current.add(r);
            }
            if (start >= 0) {
                blocks.add(new Block(table, start, end - start, List.copyOf(current)));
            }
        }
        return blocks;
    }
}

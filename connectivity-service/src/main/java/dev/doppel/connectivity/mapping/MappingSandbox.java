package dev.doppel.connectivity.mapping;

import com.dashjoin.jsonata.Functions;
import com.dashjoin.jsonata.Jsonata;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bounds of one evaluation of a custom mapping, held inside JSONata's built-in functions too
 * (issue 16, finding 3). The library checks its own time limit only between evaluation steps, so a
 * single built-in could run or allocate without bound: a backtracking regular expression in
 * {@code $match} or {@code $replace}, or {@code $pad("x", 2000000000)}. Here:
 * <ul>
 * <li><b>Time</b>: checked at every step, and inside regular expressions, whose input is read
 * through a {@link CharSequence} that checks the clock: {@code $match}, {@code $replace},
 * {@code $split} and {@code $contains} first run their expression that way, then the library's
 * own function runs on the input just shown to finish in time (so its results are the library's).</li>
 * <li><b>Memory</b>: what the evaluating thread allocates is counted (the JVM counts it per thread)
 * and checked at every step; {@code $pad} and {@code $replace} with a text replacement, which
 * allocate their whole result in one step, are refused beforehand when it would be too large.</li>
 * <li><b>Depth</b> of nested evaluation, as the library's own bound.</li>
 * <li>{@code $eval} is not available: it would evaluate a new expression outside these bounds.</li>
 * </ul>
 * One instance per evaluation, on the thread that evaluates, closed when it ends.
 */
final class MappingSandbox implements AutoCloseable {

    /** Longest text one step may make, in characters. */
    static final int MAX_TEXT = 1 << 20;
    /** Most bytes one evaluation may allocate. */
    static final long MAX_ALLOCATED = 64L << 20;

    /** What ends an evaluation that ran past a bound: {@code code} is the mapping error's. */
    static final class Exceeded extends RuntimeException {
        final String code;

        Exceeded(String code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final long deadline;
    private final Duration timeLimit;
    private final int maxDepth;
    private final long allocatedAtStart;
    private int depth;

    MappingSandbox(Duration timeLimit, int maxDepth) {
        this.timeLimit = timeLimit;
        this.maxDepth = maxDepth;
        this.deadline = System.nanoTime() + timeLimit.toNanos();
        this.allocatedAtStart = THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Puts the bounds on a frame about to evaluate. */
    void install(Jsonata.Frame frame) {
        frame.setEvaluateEntryCallback((expr, input, env) -> {
            if (++depth > maxDepth) {
                throw new Exceeded("mapping-timeout", "the mapping recursed deeper than " + maxDepth);
            }
            checkTime();
        });
        frame.setEvaluateExitCallback((expr, input, env, result) -> {
            depth--;
            checkTime();
            checkAllocated();
        });
        CURRENT.set(this);
        BUILT_INS.forEach(frame::bind);
    }

    /** Ends the evaluation on this thread: the built-ins no longer see its bounds. */
    @Override
    public void close() {
        CURRENT.remove();
    }

    /** The sandbox of the evaluation running on this thread (set by {@link #install}). */
    private static MappingSandbox current() {
        return CURRENT.get();
    }

    private static final ThreadLocal<MappingSandbox> CURRENT = new ThreadLocal<>();

    /**
     * The built-ins replaced, made once: a function's signature is parsed when it is made, which per
     * message would be work repeated for nothing. Each finds its evaluation's bounds through {@link #current}.
     */
    private static final Map<String, Jsonata.JFunction> BUILT_INS = builtIns();

    private static Map<String, Jsonata.JFunction> builtIns() {
        Map<String, Jsonata.JFunction> functions = new LinkedHashMap<>();
        functions.put("match", new Jsonata.JFunction((input, args) -> {
            Pattern p = (Pattern) arg(args, 1);
            current().scan(p, (String) arg(args, 0), (Integer) arg(args, 2));
            return Functions.match((String) arg(args, 0), p, (Integer) arg(args, 2));
        }, "<s-f<s:o>n?:a<o>>"));
        functions.put("contains", new Jsonata.JFunction((input, args) -> {
            if (arg(args, 1) instanceof Pattern p) {
                current().scan(p, (String) arg(args, 0), 1);
            }
            return Functions.contains((String) arg(args, 0), arg(args, 1));
        }, "<s-(sf):b>"));
        functions.put("split", new Jsonata.JFunction((input, args) -> {
            if (arg(args, 1) instanceof Pattern p) {
                current().scan(p, (String) arg(args, 0), arg(args, 2) instanceof Number n ? n.intValue() : null);
            }
            return Functions.split((String) arg(args, 0), arg(args, 1), (Number) arg(args, 2));
        }, "<s-(sf)n?:a<s>>"));
        functions.put("replace", new Jsonata.JFunction((input, args) -> {
            String text = (String) arg(args, 0);
            Integer limit = (Integer) arg(args, 3);
            if (text != null && arg(args, 2) instanceof String replacement) {
                long matches = arg(args, 1) instanceof Pattern p ? current().scan(p, text, limit) : occurrences(text, arg(args, 1), limit);
                if (text.length() + matches * replacement.length() > MAX_TEXT) {
                    throw tooLarge("$replace");
                }
            } else if (text != null && arg(args, 1) instanceof Pattern p) {
                current().scan(p, text, limit);
            }
            return Functions.replace(text, arg(args, 1), arg(args, 2), limit);
        }, "<s-(sf)(sf)n?:s>"));
        functions.put("pad", new Jsonata.JFunction((input, args) -> {
            Number width = (Number) arg(args, 1);
            if (width != null && Math.abs(width.doubleValue()) > MAX_TEXT) {
                throw tooLarge("$pad");
            }
            return Functions.pad((String) arg(args, 0), width, (String) arg(args, 2));
        }, "<s-ns?:s>"));
        functions.put("eval", new Jsonata.JFunction((input, args) -> {
            throw new Exceeded("mapping-failed", "$eval is not available in mappings");
        }, "<sx?:x>"));
        return Map.copyOf(functions);
    }

    private void checkTime() {
        if (System.nanoTime() > deadline) {
            throw new Exceeded("mapping-timeout", "the mapping ran longer than " + timeLimit.toMillis() + " ms");
        }
    }

    private void checkAllocated() {
        // The JVM's own per-thread count (read from the thread's allocation buffers, no safepoint).
        if (THREADS.getCurrentThreadAllocatedBytes() - allocatedAtStart > MAX_ALLOCATED) {
            throw new Exceeded("mapping-too-large", "the mapping allocated more than " + (MAX_ALLOCATED >> 20) + " MB");
        }
    }

    private static Exceeded tooLarge(String function) {
        return new Exceeded("mapping-too-large", function + " would make a text of more than " + MAX_TEXT + " characters");
    }

    /** Runs {@code p} over {@code text} as the built-ins do, within the time left; returns how many matches. */
    private long scan(Pattern p, String text, Integer limit) {
        if (text == null || p == null) {
            return 0;
        }
        Matcher m = p.matcher(new Clocked(text));
        long n = 0;
        while ((limit == null || n < limit) && m.find()) {
            n++;
        }
        return n;
    }

    private static long occurrences(String text, Object pattern, Integer limit) {
        if (!(pattern instanceof String s) || s.isEmpty()) {
            return 0;
        }
        long n = 0;
        for (int i = text.indexOf(s); i >= 0 && (limit == null || n < limit); i = text.indexOf(s, i + s.length())) {
            n++;
        }
        return n;
    }

    /** A text that checks the clock every so many reads: a regular expression reads it all the time. */
    private final class Clocked implements CharSequence {
        private final CharSequence text;
        private int reads;

        Clocked(CharSequence text) {
            this.text = text;
        }

        @Override
        public char charAt(int index) {
            if ((++reads & 0x3ff) == 0) {
                checkTime();
            }
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Clocked(text.subSequence(start, end));
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }

    /** An argument, or null for an optional one left out. */
    private static Object arg(List<?> args, int i) {
        return i < args.size() ? args.get(i) : null;
    }
}

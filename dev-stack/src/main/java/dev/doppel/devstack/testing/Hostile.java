package dev.doppel.devstack.testing;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Malformed and hostile inputs for the fuzz tests, from a seeded {@link Random} so that a failing run
 * can be repeated exactly: texts (sizes, control characters, encodings, patterns), JSON (shapes,
 * nesting, names a store or a parser may treat specially) and JSON that is not JSON.
 */
public final class Hostile {

    private final Random random;

    public Hostile(long seed) {
        this.random = new Random(seed);
    }

    public Random random() {
        return random;
    }

    public int below(int n) {
        return random.nextInt(n);
    }

    public boolean chance(int percent) {
        return random.nextInt(100) < percent;
    }

    public <T> T pick(List<T> choices) {
        return choices.get(random.nextInt(choices.size()));
    }

    private static final List<String> TEXTS = List.of("", " ", "null", "true", "-1", "0", "1e309", "-0", "NaN",
            "9223372036854775808", "0x10", "\u0000", "\r\n", "\r\nX-Injected: 1", "%00", "%2F", "%2e%2e", "..", "../..",
            "~", "~0~1", "/", "//", "*", "**", "?", "#", "$where", "$regex", "$gt", "_id", "_revision", "__proto__",
            "constructor", "a.b", "a/b", "a b", "\"", "'", "\\", "`", "<script>alert(1)</script>", "${jndi:ldap://x}",
            "{{7*7}}", "\uD83D\uDE00", "\u202Eevil", "e\u0301", "\uFFFF", "\uD800", "日本語", "demo:sensor-1",
            "other:thing", "demo:", ":x", "a:b:c", "2026-12-07T00:00:00Z", "2026-13-40T99:99:99Z", "P1D", "-P99999D");

    /** A text from the hostile list, a random one, a long one, or one of many repeats of a pattern. */
    public String text() {
        return switch (random.nextInt(6)) {
            case 0, 1 -> pick(TEXTS);
            case 2 -> randomChars(1 + random.nextInt(40));
            case 3 -> pick(TEXTS) + randomChars(random.nextInt(8)) + pick(TEXTS);
            case 4 -> pick(List.of("a", "*", "(", "[", "{", "\\", "%", "/", "\u00e9")).repeat(1 + random.nextInt(5_000));
            default -> randomChars(1_000 + random.nextInt(20_000));
        };
    }

    /** Any characters, surrogates and controls included. */
    public String randomChars(int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append(switch (random.nextInt(4)) {
                case 0 -> (char) random.nextInt(0x20);
                case 1 -> (char) (0x20 + random.nextInt(0x5f));
                case 2 -> (char) random.nextInt(0x10000);
                default -> "abcxyz019:-_./~".charAt(random.nextInt(15));
            });
        }
        return b.toString();
    }

    /** A JSON value (as text) of random shape: nested, with names a store or parser may treat specially. */
    public String json() {
        StringBuilder b = new StringBuilder();
        json(b, random.nextInt(6));
        return b.toString();
    }

    private void json(StringBuilder b, int depth) {
        int kind = depth <= 0 ? 2 + random.nextInt(5) : random.nextInt(7);
        switch (kind) {
            case 0 -> {
                b.append('{');
                int n = random.nextInt(6);
                for (int i = 0; i < n; i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    quoted(b, text());
                    b.append(':');
                    json(b, depth - 1);
                }
                b.append('}');
            }
            case 1 -> {
                b.append('[');
                int n = random.nextInt(6);
                for (int i = 0; i < n; i++) {
                    if (i > 0) {
                        b.append(',');
                    }
                    json(b, depth - 1);
                }
                b.append(']');
            }
            case 2 -> quoted(b, text());
            case 3 -> b.append(pick(List.of("0", "-1", "1.5", "1e308", "-1e-308", "123456789012345678901234567890",
                    "9007199254740993", "-0.0")));
            case 4 -> b.append(pick(List.of("true", "false", "null")));
            case 5 -> b.append("{\"features\":{\"").append(escape(text())).append("\":{\"properties\":")
                    .append(depth > 1 ? json(depth - 1) : "1").append("}}}");
            default -> b.append("{\"attributes\":").append(depth > 1 ? json(depth - 1) : "{}").append('}');
        }
    }

    private String json(int depth) {
        StringBuilder b = new StringBuilder();
        json(b, depth);
        return b.toString();
    }

    /** Text that is not JSON, or JSON past every sane bound (nesting, size). */
    public byte[] notJson() {
        String whole = json();
        String s = switch (random.nextInt(9)) {
            case 0 -> whole.substring(0, whole.length() / 2);
            case 1 -> "{\"a\":1,}";
            case 2 -> "{a:1}";
            case 3 -> "[".repeat(1 + random.nextInt(100_000));
            case 4 -> "{\"a\":".repeat(1 + random.nextInt(20_000)) + "1" + "}".repeat(random.nextInt(20_000));
            case 5 -> "{\"a\":\"" + "x".repeat(random.nextInt(2_000_000)) + "\"}";
            case 6 -> whole + "garbage";
            case 7 -> "\uFEFF" + whole;
            default -> randomChars(random.nextInt(200));
        };
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (random.nextInt(5) == 0 && bytes.length > 0) {
            bytes[random.nextInt(bytes.length)] = (byte) (0x80 + random.nextInt(0x80)); // invalid UTF-8
        }
        return bytes;
    }

    private static void quoted(StringBuilder b, String s) {
        b.append('"').append(escape(s)).append('"');
    }

    /** JSON string escaping, lone surrogates kept (a parser must cope with them too). */
    public static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}

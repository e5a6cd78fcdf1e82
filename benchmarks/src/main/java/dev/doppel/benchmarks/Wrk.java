package dev.doppel.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP load from Debian's {@code wrk}, a second process written in C: the load generator costs far less
 * CPU than a Java client on the same two cores, so the figure is the server's. Each request goes to a
 * random one of {@code n} paths ({@code prefix + i + suffix}), with a bearer token.
 */
final class Wrk {

    /** What one wrk run measured: requests per second, latency percentiles, failed requests. */
    record Result(double perSecond, double p50ms, double p99ms, long errors) {
    }

    private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
    private static final Pattern PERCENTILE = Pattern.compile("^\\s+(50|99)%\\s+([\\d.]+)(us|ms|s)\\s*$",
            Pattern.MULTILINE);
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)");
    private static final Pattern SOCKET_ERRORS = Pattern.compile(
            "Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    private Wrk() {
    }

    /** Fails with the tool's name when wrk is missing, rather than measuring with something else. */
    static void requireInstalled() {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("this benchmark needs wrk: apt-get install wrk", e);
        }
    }

    /**
     * Runs {@code connections} connections on two threads for {@code seconds}. {@code body}, when not
     * null, is sent with the method and may contain {@code RANDOM}, replaced by a number below 1000 per
     * request.
     */
    static Result run(String baseUrl, String method, String prefix, int n, String suffix, String token,
            String body, int connections, int seconds) throws IOException, InterruptedException {
        String script = """
                local counter = 0
                function setup(thread)
                  thread:set("seed", counter)
                  counter = counter + 1
                end
                function init(args)
                  math.randomseed(os.time() * 1000 + seed)
                end
                local headers = { ["Authorization"] = "Bearer %s", ["Content-Type"] = "application/json" }
                function request()
                  local body = nil
                  %s
                  return wrk.format("%s", "%s" .. math.random(0, %d) .. "%s", headers, body)
                end
                """.formatted(token, body == null ? "" : "body = string.gsub(\"" + body.replace("\"", "\\\"")
                        + "\", \"RANDOM\", tostring(math.random(0, 999)))", method, prefix, n - 1, suffix);
        Path file = Files.createTempFile("doppel-wrk-", ".lua");
        try {
            Files.writeString(file, script, StandardCharsets.UTF_8);
            Process p = new ProcessBuilder("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "--latency",
                    "--timeout", "10s", "-s", file.toString(), baseUrl).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("wrk failed:\n" + out);
            }
            return parse(out, seconds);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The run's figures; the rate counts successful requests only. */
    static Result parse(String out, int seconds) {
        Matcher rate = RATE.matcher(out);
        if (!rate.find()) {
            throw new IllegalStateException("no rate in wrk's output:\n" + out);
        }
        double p50 = Double.NaN;
        double p99 = Double.NaN;
        Matcher m = PERCENTILE.matcher(out);
        while (m.find()) {
            double v = Double.parseDouble(m.group(2));
            double ms = switch (m.group(3)) {
                case "us" -> v / 1000;
                case "s" -> v * 1000;
                default -> v;
            };
            if (m.group(1).equals("50")) {
                p50 = ms;
            } else {
                p99 = ms;
            }
        }
        long errors = 0;
        Matcher non2xx = NON_2XX.matcher(out);
        if (non2xx.find()) {
            errors += Long.parseLong(non2xx.group(1));
        }
        Matcher socket = SOCKET_ERRORS.matcher(out);
        if (socket.find()) {
            for (int g = 1; g <= 4; g++) {
                errors += Long.parseLong(socket.group(g));
            }
        }
        double perSecond = Double.parseDouble(rate.group(1)) - (double) errors / seconds;
        return new Result(perSecond, p50, p99, errors);
    }
}

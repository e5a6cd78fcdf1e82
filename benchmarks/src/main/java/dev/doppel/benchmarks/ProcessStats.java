package dev.doppel.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** What a process of the run holds: resident memory from /proc, a JVM's live heap and a service's metrics. */
final class ProcessStats {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ProcessStats() {
    }

    /** VmRSS of /proc/{pid}/status, in bytes. */
    static long rss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for process " + pid);
    }

    /** CPU time the process has used so far (user and system), in milliseconds; -1 if the OS does not tell. */
    static long cpuMillis(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration()).map(Duration::toMillis).orElse(-1L);
    }

    /** The soft and the hard limit on open files of this process (children inherit them), as /proc tells them. */
    static String[] openFilesLimits() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String[] values = line.substring("Max open files".length()).trim().split("\\s+");
                return new String[] {values[0], values[1]};
            }
        }
        throw new IOException("no open-file limit in /proc/self/limits");
    }

    /**
     * A service's live heap: a full collection ({@code jcmd GC.run}, the same JDK), then the heap in
     * use as its {@code /q/metrics} reports it.
     */
    static long liveHeap(long pid, String baseUrl) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), "GC.run").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            System.err.println("jcmd " + pid + " GC.run failed; the heap figure includes garbage");
        }
        return (long) metric(baseUrl, "jvm_memory_used_bytes", "area=\"heap\"");
    }

    /** The sum of a Prometheus metric's series in {@code /q/metrics} whose labels contain {@code labels}. */
    static double metric(String baseUrl, String name, String labels) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/q/metrics"))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        double sum = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                int space = line.lastIndexOf(' ');
                if (line.substring(0, space).contains(labels)) {
                    sum += Double.parseDouble(line.substring(space + 1));
                }
            }
        }
        return sum;
    }
}

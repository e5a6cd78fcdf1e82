package dev.doppel.benchmarks;

import dev.doppel.benchmarks.ClosedLoop.Result;
import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.ManagedProcess;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * CPU time each process of the local system spent per operation over a measured window. On a noisy
 * shared machine throughput moves by 2x between runs; the CPU an operation costs moves much less, so
 * it is what a before/after comparison of the same path reads first.
 */
final class CpuPerOperation implements ClosedLoop.Window {

    private final List<ManagedProcess> processes;
    private final Map<String, Long> before = new LinkedHashMap<>();
    private final Map<String, Double> perOperation = new LinkedHashMap<>();

    CpuPerOperation(LocalSystem system) {
        this.processes = system.processes();
    }

    @Override
    public void opened() {
        for (ManagedProcess p : processes) {
            before.put(p.name(), ProcessStats.cpuMillis(p.pid()));
        }
    }

    @Override
    public void closed(Result result) {
        closed(result.latency().getTotalCount());
    }

    /** The window closed after {@code operations} operations. */
    void closed(long operations) {
        for (ManagedProcess p : processes) {
            long start = before.getOrDefault(p.name(), -1L);
            long end = ProcessStats.cpuMillis(p.pid());
            if (start >= 0 && end >= 0 && operations > 0) {
                perOperation.put(p.name(), (end - start) / (double) operations);
            }
        }
    }

    /** Table rows: ms of CPU per operation for each process, and their sum. */
    void print(String operation) {
        double total = 0;
        for (Map.Entry<String, Double> e : perOperation.entrySet()) {
            System.out.printf(Locale.ROOT, "| CPU ms per %s: %s | | %.3f | |%n", operation, e.getKey(), e.getValue());
            total += e.getValue();
        }
        System.out.printf(Locale.ROOT, "| CPU ms per %s: all of the system | | %.3f | |%n", operation, total);
    }
}

package dev.doppel.benchmarks;

import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Provisioner;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Registers many devices through connectivity's registry API, as an operator would, several requests
 * at a time. Keycloak's access tokens live five minutes, so the admin token is renewed as it goes.
 */
final class Fleet {

    private static final long TOKEN_RENEWAL_NANOS = TimeUnit.MINUTES.toNanos(2);


    private final LocalSystem system;
    private Provisioner provisioner;
    private long tokenTakenAt;

    Fleet(LocalSystem system) {
        this.system = system;
    }

    /** Each device gets {@code password}; and, with {@code psk} not null, that pre-shared key for DTLS. */
    void register(String tenant, List<String> deviceIds, String password, String psk, int parallel)
            throws Exception {
        long t0 = System.nanoTime();
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<Void>> all = deviceIds.stream().map(id -> pool.submit(() -> {
                registerOne(tenant, id, password, psk);
                int n = done.incrementAndGet();
                if (n % 1000 == 0) {
                    System.out.printf(Locale.ROOT, "[provisioning] %d of %d devices (%.0f /s)%n", n, deviceIds.size(),
                            n / ((System.nanoTime() - t0) / 1e9));
                }
                return (Void) null;
            })).toList();
            for (Future<Void> f : all) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf(Locale.ROOT, "[provisioning] %d devices registered over REST in %.1f s, %d at a time%n",
                deviceIds.size(), (System.nanoTime() - t0) / 1e9, parallel);
    }

    private void registerOne(String tenant, String id, String password, String psk) throws Exception {
        for (int attempt = 1;; attempt++) {
            try {
                if (psk == null) {
                    provisioner().device(tenant, id, password);
                } else {
                    provisioner().device(tenant, id, password, psk);
                }
                return;
            } catch (java.io.IOException e) {
                // A token that expired in flight, or a registry write lost to the load: the PUTs are idempotent.
                if (attempt == 3) {
                    throw e;
                }
                renew();
            }
        }
    }

    private synchronized Provisioner provisioner() {
        if (provisioner == null || System.nanoTime() - tokenTakenAt > TOKEN_RENEWAL_NANOS) {
            renew();
        }
        return provisioner;
    }

    private synchronized void renew() {
        tokenTakenAt = System.nanoTime();
        String token = system.tokens().password("admin", "admin");
        provisioner = new Provisioner(system.service("connectivity-service").baseUrl(), token);
    }
}

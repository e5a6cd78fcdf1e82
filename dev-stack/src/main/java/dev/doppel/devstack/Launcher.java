package dev.doppel.devstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The local run: a real Kafka broker, the MongoDB stand-in with a file store, Keycloak with the
 * project's realm, the three services,
 * the demo tenant and device, and a simulated fleet. Ctrl-C stops everything in order (devices,
 * services, then the stores), so nothing acknowledged is lost.
 *
 * <pre>
 * Launcher [--devices N] [--no-fleet] [--period-ms MS] [--data DIR]
 * </pre>
 */
public final class Launcher {

    static final String TENANT = "demo";
    static final String DEMO_DEVICE = "sensor-1";
    static final String DEMO_PASSWORD = "demo-secret";
    /**
     * The demo device's DTLS pre-shared key for CoAP: these 17 characters' bytes, as
     * {@code coap-client -k} sends them (the registry holds them base64-encoded).
     */
    static final String DEMO_PSK = "demo-sensor-1-psk";
    static final int KAFKA = 9092;
    static final int KAFKA_CONTROLLER = 9093;
    static final int MONGO = 27017;
    static final int KEYCLOAK = 8180;
    static final int TWIN = 8081;
    static final int COMMAND = 8082;
    static final int CONNECTIVITY = 8083;
    /** Each service's management port (health, metrics, OpenAPI): its API port + 1000. */
    static final int TWIN_MANAGEMENT = 9081;
    static final int COMMAND_MANAGEMENT = 9082;
    static final int CONNECTIVITY_MANAGEMENT = 9083;
    static final int MQTT = 1883;
    /** CoAP (UDP): plain, and over DTLS with pre-shared keys. */
    static final int COAP = 5683;
    static final int COAPS = 5684;
    static final int ZIPKIN = 9411;
    /** The simulated smart meter's Modbus TCP port (502 would need root). */
    static final int METER = 5020;
    static final String METER_DEVICE = "meter-1";

    private final List<AutoCloseable> started = new ArrayList<>();
    private final List<ManagedProcess> watched = new ArrayList<>();
    private volatile boolean stopping;

    public static void main(String[] args) throws Exception {
        int devices = 20;
        long periodMillis = 2000;
        Path data = Path.of(".doppel");
        boolean traces = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--devices" -> devices = Integer.parseInt(args[++i]);
                case "--no-fleet" -> devices = 0;
                case "--period-ms" -> periodMillis = Long.parseLong(args[++i]);
                case "--data" -> data = Path.of(args[++i]);
                case "--no-traces" -> traces = false;
                default -> {
                    System.err.println(
                            "usage: doppel run [--devices N] [--no-fleet] [--period-ms MS] [--data DIR] [--no-traces]");
                    System.exit(2);
                }
            }
        }
        new Launcher().run(DoppelHome.locate().resolve(data), devices, periodMillis, traces);
    }

    private void run(Path data, int devices, long periodMillis, boolean traces) throws Exception {
        checkPortsFree(traces);
        Path logs = data.resolve("logs");
        Files.createDirectories(logs);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            say("\nStopping: devices, services, then MongoDB and Kafka ...");
            stopAll();
            say("Stopped. Data kept in " + data + " (delete it for a fresh start).");
            stopped.countDown();
        }, "doppel-stop"));
        long t0 = System.nanoTime();
        try {
            step("1/5", "Kafka broker (KRaft) :" + KAFKA + ", MongoDB stand-in :" + MONGO + ", Keycloak :" + KEYCLOAK
                    + " (realm twin)" + (traces ? ", Zipkin :" + ZIPKIN : ""));
            LocalSystem system = track(new LocalSystem(data, new LocalSystem.Layout(KAFKA, KAFKA_CONTROLLER, MONGO, KEYCLOAK,
                    Map.of("twin-service", TWIN, "command-service", COMMAND, "connectivity-service", CONNECTIVITY),
                    Map.of("twin-service", TWIN_MANAGEMENT, "command-service", COMMAND_MANAGEMENT,
                            "connectivity-service", CONNECTIVITY_MANAGEMENT),
                    MQTT, COAP, COAPS)));
            if (traces) {
                system.withTracing(ZIPKIN);
            }
            system.startInfrastructure(data.resolve("mongodb/doppel.mv"));
            done(t0);

            step("2/5", "twin-service :" + TWIN + ", command-service :" + COMMAND + ", connectivity-service :"
                    + CONNECTIVITY + " (MQTT :" + MQTT + ", CoAP udp :" + COAP + " and DTLS :" + COAPS + ")");
            system.startServices(LocalSystem.SERVICES, Map.of());
            watched.addAll(system.processes());
            done(t0);

            step("3/5", "demo tenant '" + TENANT + "', device " + DEMO_DEVICE + " and " + devices + " simulated devices");
            Provisioner provisioner = new Provisioner("http://127.0.0.1:" + CONNECTIVITY,
                    system.tokens().password("admin", "admin"));
            provisioner.device(TENANT, DEMO_DEVICE, DEMO_PASSWORD, DEMO_PSK);
            for (int i = 1; i <= devices; i++) {
                provisioner.device(TENANT, FleetSimulator.deviceId(i), DEMO_PASSWORD);
            }
            done(t0);

            step("4/5", devices == 0 ? "simulated fleet off (--no-fleet)"
                    : "simulated fleet: " + devices + " MQTT sensors publishing every " + periodMillis + " ms, and "
                            + "smart meter " + METER_DEVICE + " on Modbus TCP :" + METER + ", polled by connectivity");
            if (devices > 0) {
                FleetSimulator fleet = new FleetSimulator();
                started.add(fleet);
                fleet.start("tcp://127.0.0.1:" + MQTT, TENANT, devices, DEMO_PASSWORD, periodMillis);
                SimulatedMeter meter = new SimulatedMeter();
                started.add(meter);
                meter.start(METER);
                provisioner.modbusDevice(TENANT, METER_DEVICE, SimulatedMeter.plan(METER, Math.max(periodMillis, 100)));
            }
            done(t0);
            step("5/5", "ready");
            say(banner(logs));
        } catch (Exception | Error e) {
            System.err.println("\nStart failed: " + e.getMessage());
            System.exit(1);
        }
        watch(stopped);
    }

    private void watch(CountDownLatch stopped) throws InterruptedException {
        List<ManagedProcess> reported = new ArrayList<>();
        while (!stopped.await(2, java.util.concurrent.TimeUnit.SECONDS)) {
            for (ManagedProcess p : watched) {
                if (!stopping && !p.isAlive() && !reported.contains(p)) {
                    reported.add(p);
                    System.err.println("!! " + p.name() + " stopped unexpectedly; see " + p.log() + "\n" + p.tail(15));
                }
            }
        }
    }

    private static String banner(Path logs) {
        String token = "TOKEN=$(curl -s -d grant_type=password -d client_id=twin-app -d username=olivia -d password=olivia "
                + "http://127.0.0.1:" + KEYCLOAK + "/realms/twin/protocol/openid-connect/token "
                + "| sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')";
        return String.join("\n",
                "",
                "Doppel is running.",
                "",
                "  Console (sign in: olivia) http://127.0.0.1:" + TWIN + "/console/",
                "  Twin REST (Ditto API v2)  http://127.0.0.1:" + TWIN + "/api/2/things/demo:sensor-1",
                "  Commands                  http://127.0.0.1:" + COMMAND + "/api/2/things/{thingId}/inbox/messages/{subject}",
                "  Device registry           http://127.0.0.1:" + CONNECTIVITY + "/api/registry/devices/demo/sensor-1",
                "  MQTT (Hono topics)        tcp://127.0.0.1:" + MQTT + "   user sensor-1@demo  password " + DEMO_PASSWORD,
                "  CoAP over DTLS (Hono)     coaps://127.0.0.1:" + COAPS + "  PSK identity sensor-1@demo  key " + DEMO_PSK
                        + "  (plain coap :" + COAP + "/telemetry/demo/sensor-1 works here, loopback only)",
                "  Smart meter (Modbus TCP)  127.0.0.1:" + METER + "  polled into twin demo:" + METER_DEVICE
                        + " (feature meter; not with --no-fleet)",
                "  Keycloak (realm twin)     http://127.0.0.1:" + KEYCLOAK + "/admin  (admin/admin)",
                "  Health / metrics / API    http://127.0.0.1:" + TWIN_MANAGEMENT + "/q/health/ready  /q/metrics  /q/openapi"
                        + " (management ports " + TWIN_MANAGEMENT + ", " + COMMAND_MANAGEMENT + ", "
                        + CONNECTIVITY_MANAGEMENT + "; no token needed)",
                "  Traces (Zipkin)           http://127.0.0.1:" + ZIPKIN + "/zipkin/  (unless --no-traces)",
                "  Kafka / MongoDB           127.0.0.1:" + KAFKA + " / mongodb://127.0.0.1:" + MONGO,
                "  Logs                      " + logs,
                "",
                "Users (password = user name): admin (dt-admin, all tenants), olivia (dt-operator, demo),",
                "  victor (dt-viewer, demo), mallory (dt-operator, tenant other: sees none of demo).",
                "",
                "Try it:",
                "  " + token,
                "  mosquitto_pub -h 127.0.0.1 -u sensor-1@demo -P " + DEMO_PASSWORD
                        + " -t telemetry -q 1 -m '{\"temperature\":21.5}'",
                "  coap-client-openssl -u sensor-1@demo -k " + DEMO_PSK + " -m POST -t application/json"
                        + " -e '{\"temperature\":21.5}' coaps://127.0.0.1:" + COAPS + "/telemetry",
                "  curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:" + TWIN + "/api/2/things/demo:sensor-1",
                "  curl -H \"Authorization: Bearer $TOKEN\" -X POST 'http://127.0.0.1:" + COMMAND
                        + "/api/2/things/demo:sim-001/inbox/messages/switch?timeout=5s' -H 'Content-Type: application/json' -d '{\"on\":true}'",
                "",
                "Press Ctrl-C to stop.");
    }

    private void checkPortsFree(boolean traces) {
        List<String> busy = new ArrayList<>();
        List<Integer> ports = new ArrayList<>(List.of(KAFKA, KAFKA_CONTROLLER, MONGO, KEYCLOAK, TWIN, COMMAND,
                CONNECTIVITY, MQTT, METER));
        if (traces) {
            ports.add(ZIPKIN);
        }
        for (int port : ports) {
            if (Ports.isOpen("127.0.0.1", port)) {
                busy.add(Integer.toString(port));
            }
        }
        for (int port : List.of(COAP, COAPS)) {
            if (Ports.isUdpBound(port)) {
                busy.add(port + "/udp");
            }
        }
        if (!busy.isEmpty()) {
            System.err.println("Cannot start: port(s) " + String.join(", ", busy) + " on 127.0.0.1 are in use"
                    + " (another run of doppel, a Kafka, MongoDB, MQTT broker or CoAP server?). Stop it first.");
            System.exit(1);
        }
    }

    private synchronized <T extends AutoCloseable> T track(T resource) {
        started.add(resource);
        return resource;
    }

    private synchronized void stopAll() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                System.err.println("while stopping: " + e.getMessage());
            }
        }
        started.clear();
    }

    private static void step(String n, String what) {
        System.out.print(String.format(Locale.ROOT, "[%s] %s ...", n, what));
        System.out.flush();
    }

    private static void done(long t0) {
        System.out.println(String.format(Locale.ROOT, " ok (%.1f s)", (System.nanoTime() - t0) / 1e9));
    }

    private static void say(String s) {
        System.out.println(s);
    }
}

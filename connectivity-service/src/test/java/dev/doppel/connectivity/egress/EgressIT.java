package dev.doppel.connectivity.egress;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.oneOf;

import dev.doppel.devstack.Ports;
import dev.doppel.devstack.testing.AccessFixtures;
import dev.doppel.devstack.testing.RealInfrastructure;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import java.net.URI;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A tenant's Modbus plans and broker connections reach only what dt-admin allowed for the tenant, and
 * never the platform itself (issue 16, finding 4): a device admin could otherwise poll another tenant's
 * gateway, or point connectivity at the platform's own Kafka and MongoDB. The tests run with loopback
 * allowed, as the local run does, so the platform's ports are refused by rule, not by accident.
 */
@QuarkusTest
@QuarkusTestResource(RealInfrastructure.class)
class EgressIT {

    /** Health and metrics: the management interface (its URL ends in /q/), not the API port. */
    @io.quarkus.test.common.http.TestHTTPResource(value = "", management = true)
    java.net.URL management;

    private static RequestSpecification admin() {
        return given().auth().oauth2(RealInfrastructure.token("admin")).contentType("application/json");
    }

    private static RequestSpecification dora() {
        return given().auth().oauth2(AccessFixtures.deviceAdmin()).contentType("application/json");
    }

    private static String plan(String host, int port) {
        return """
                {"host": "%s", "port": %d, "unitId": 1, "periodMs": 300, "feature": "meter",
                 "registers": [{"name": "voltage", "address": 0, "type": "float32"}]}""".formatted(host, port);
    }

    private static int kafkaPort() {
        String first = RealInfrastructure.kafkaBootstrapServers().split(",")[0];
        return Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
    }

    private static int mongoPort() {
        return URI.create(RealInfrastructure.mongoConnectionString()).getPort();
    }

    private static void refused(RequestSpecification as, String body, String path, String why) {
        as.body(body).put(path).then().statusCode(403).contentType("application/problem+json")
                .body("type", equalTo("https://doppel.dev/problems/egress-refused"))
                .body("detail", containsString(why));
    }

    @Test
    void modbusPlansReachNeitherThePlatformNorHostsTheTenantWasNotAllowed() {
        String path = "/api/registry/devices/demo/egress-m1/modbus";
        admin().body("{}").put("/api/registry/devices/demo/egress-m1").then().statusCode(oneOf(201, 204));
        admin().body("[]").put("/api/registry/tenants/demo/egress").then().statusCode(204);
        // The positive control: a device on this machine, as in the local run.
        int device = Ports.free();
        dora().body(plan("127.0.0.1", device)).put(path).then().statusCode(201);

        refused(dora(), plan("127.0.0.1", kafkaPort()), path, "platform's own endpoints");
        refused(dora(), plan("localhost", mongoPort()), path, "platform's own endpoints");
        refused(dora(), plan("169.254.169.254", 80), path, "never reachable");
        refused(dora(), plan("10.77.0.5", 502), path, "not in tenant demo's egress allow-list");
        // What was refused changed nothing.
        dora().get(path).then().statusCode(200).body("host", equalTo("127.0.0.1")).body("port", equalTo(device));

        // Only dt-admin opens the way; the device admin reads what is allowed.
        dora().body("[\"10.77.0.0/16:502\"]").put("/api/registry/tenants/demo/egress").then().statusCode(403);
        admin().body("[\"10.77.0.0/16:502\", \"0.0.0.0/0:" + kafkaPort() + "\"]").put("/api/registry/tenants/demo/egress")
                .then().statusCode(204);
        dora().get("/api/registry/tenants/demo/egress").then().statusCode(200).body("[0]", equalTo("10.77.0.0/16:502"));
        dora().body(plan("10.77.0.5", 502)).put(path).then().statusCode(200);
        refused(dora(), plan("10.77.0.5", 503), path, "not in tenant demo's egress allow-list");
        refused(dora(), plan("127.0.0.1", kafkaPort()), path, "platform's own endpoints");
        admin().body("[\"10.0.0.0/33\", \"host:port\"]").put("/api/registry/tenants/demo/egress").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("10.0.0.0/33"))
                .body("detail", containsString("host:port"));

        // A plan stored while allowed is checked again at its connection: the allow-list shrinks, and the
        // poller refuses to connect (counted), instead of reaching the host it no longer may.
        double before = refusals();
        admin().body("[]").put("/api/registry/tenants/demo/egress").then().statusCode(204);
        try {
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> refusals() > before);
        } finally {
            admin().delete(path).then().statusCode(204);
        }
    }

    @Test
    void brokerConnectionsFollowTheSameRulesAndKeepTheirPasswordToTheirBroker() {
        String path = "/api/registry/connections/demo/egress-plant";
        String connection = """
                {"uri":"tcp://%s:%d","username":"doppel","password":"%s",
                 "subscriptions":[{"filter":"plant/+/data","device":"{1}"}]}""";
        int broker = Ports.free();
        admin().body(connection.formatted("127.0.0.1", broker, "bridge-secret")).put(path).then().statusCode(201);
        refused(admin(), connection.formatted("127.0.0.1", mongoPort(), "bridge-secret"), path, "platform's own endpoints");
        // "***" keeps the stored password only for the broker it was given for.
        admin().body(connection.formatted("127.0.0.1", Ports.free(), "***")).put(path).then().statusCode(400)
                .body("detail", containsString("same broker"));
        admin().body(connection.formatted("127.0.0.1", broker, "***")).put(path).then().statusCode(204);
        admin().delete(path).then().statusCode(204);
    }

    private static final Pattern REFUSED = Pattern.compile("doppel_egress_refused_total\\{[^}]*use=\"modbus\"[^}]*} ([0-9.eE+]+)");

    private double refusals() {
        Matcher m = REFUSED.matcher(given().get(management + "metrics").then().extract().asString());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}

package dev.doppel.systemtests;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.doppel.devstack.LocalSystem;
import dev.doppel.devstack.Provisioner;
import dev.doppel.devstack.ServiceProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real browser (Debian's {@code chromium} through {@code chromium-driver}) against the
 * whole local system: sign-in through Keycloak's own login page, the fleet, a twin kept live while its
 * device publishes over MQTT, desired state, a command to a device, and what each role may see and do.
 * Screenshots of the main pages go to {@code target/console-screenshots/} (docs/console.md shows them).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

    private static final String PASSWORD = "console-secret";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SHOTS = Path.of("target", "console-screenshots");

    private static LocalSystem system;
    private static ServiceProcess twin;
    private static ServiceProcess command;
    private static int mqttPort;
    private static String admin;
    private static String olivia;
    private WebDriver browser;

    @BeforeAll
    static void startSystem() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the console's browser tests need Debian's chromium and chromium-driver "
                    + "(apt-get install chromium chromium-driver; .ci/run installs them)");
        }
        system = new LocalSystem(Files.createTempDirectory("doppel-console-"), LocalSystem.Layout.freePorts());
        system.startInfrastructure(null).startServices(LocalSystem.SERVICES, Map.of());
        twin = system.service("twin-service");
        command = system.service("command-service");
        mqttPort = system.mqttPort();
        admin = system.tokens().password("admin", "admin");
        olivia = system.tokens().password("olivia", "olivia");
        Provisioner provisioner = new Provisioner(system.service("connectivity-service").baseUrl(), admin);
        provisioner.device("demo", "console-sensor", PASSWORD);
        provisioner.device("demo", "console-lamp", PASSWORD);
        given().auth().oauth2(admin).contentType("application/json").body("{\"attributes\":{\"name\":\"Mallory's box\"}}")
                .put(twin.baseUrl() + "/api/2/things/other:mallory-box").then().statusCode(201);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().auth().oauth2(olivia)
                .get(twin.baseUrl() + "/api/2/things/demo:console-lamp").then().statusCode(200));
        Files.createDirectories(SHOTS);
    }

    @AfterAll
    static void stopSystem() {
        if (system != null) {
            system.close();
        }
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    /** A fresh browser (no cookies, no session) signed in as the user through Keycloak's login page. */
    private void signIn(String user) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800");
        options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build(),
                options);
        browser.get(twin.baseUrl() + "/console/");
        waitFor(By.id("sign-in")).click();
        waitFor(By.id("username")).sendKeys(user);
        browser.findElement(By.id("password")).sendKeys(user);
        browser.findElement(By.id("kc-login")).click();
        new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> !d.findElements(By.id("user")).isEmpty()
                || !d.findElements(By.cssSelector(".problem")).isEmpty());
        if (browser.findElements(By.id("user")).isEmpty()) {
            fail("sign-in did not complete at " + browser.getCurrentUrl() + ": "
                    + browser.findElement(By.tagName("body")).getText());
        }
        assertEquals(user, browser.findElement(By.id("user")).getText());
    }

    private WebElement waitFor(By what) {
        return explained(() -> new WebDriverWait(browser, Duration.ofSeconds(20))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(ExpectedConditions.visibilityOfElementLocated(what)));
    }

    private void waitUntil(String why, java.util.function.Function<WebDriver, Boolean> condition) {
        // Live updates re-render rows while a condition reads them: such a read is tried again.
        explained(() -> new WebDriverWait(browser, Duration.ofSeconds(20)).withMessage(why)
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(condition::apply));
    }

    /** A wait that failed says what the page showed and what its console logged, and leaves a screenshot. */
    private <T> T explained(java.util.function.Supplier<T> wait) {
        try {
            return wait.get();
        } catch (org.openqa.selenium.TimeoutException e) {
            String shot = "failed-" + System.nanoTime();
            try {
                screenshot(shot);
            } catch (Exception ignored) {
                // the failure below says what matters
            }
            String logs = browser.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
                    .map(Object::toString).collect(java.util.stream.Collectors.joining("\n"));
            throw new AssertionError(e.getMessage() + "\nat " + browser.getCurrentUrl() + " (" + SHOTS.resolve(shot)
                    + ".png), the page showed:\n" + browser.findElement(By.tagName("body")).getText()
                    + "\nits console:\n" + logs, e);
        }
    }

    /** The whole page, not only the window (Chrome's DevTools protocol), at most 2,400 pixels high. */
    @SuppressWarnings("unchecked")
    private void screenshot(String name) throws Exception {
        ChromeDriver chrome = (ChromeDriver) browser;
        Map<String, Object> size = (Map<String, Object>) chrome.executeCdpCommand("Page.getLayoutMetrics", Map.of())
                .get("cssContentSize");
        Map<String, Object> clip = Map.of("x", 0, "y", 0, "scale", 1,
                "width", ((Number) size.get("width")).doubleValue(),
                "height", Math.min(2400, ((Number) size.get("height")).doubleValue()));
        String png = (String) chrome.executeCdpCommand("Page.captureScreenshot",
                Map.of("captureBeyondViewport", true, "clip", clip)).get("data");
        Files.write(SHOTS.resolve(name + ".png"), java.util.Base64.getDecoder().decode(png));
    }

    private void openTwin(String thingId) {
        browser.get(twin.baseUrl() + "/console/#/things/" + thingId);
        waitUntil("the twin page is live", d -> !d.findElements(By.cssSelector("#live-state[data-live='true']")).isEmpty());
    }

    private static MqttClient device(String id) throws MqttException {
        return PahoDevices.connect(mqttPort, id, "demo", PASSWORD);
    }

    @Test
    @Order(0)
    void theConsoleIsServedWithAPolicyThatKeepsDeviceValuesFromRunning() {
        given().redirects().follow(false).get(twin.baseUrl() + "/console").then().statusCode(301)
                .header("Location", org.hamcrest.Matchers.endsWith("/console/"));
        given().get(twin.baseUrl() + "/console/").then().statusCode(200)
                .header("Content-Security-Policy", org.hamcrest.Matchers.allOf(
                        org.hamcrest.Matchers.containsString("script-src 'self'"),
                        org.hamcrest.Matchers.containsString("frame-ancestors 'none'"),
                        org.hamcrest.Matchers.containsString(command.baseUrl())));
        given().get(twin.baseUrl() + "/console/config.json").then().statusCode(200)
                .body("clientId", equalTo("doppel-console")).body("commandsUrl", equalTo(command.baseUrl()));
    }

    @Test
    @Order(1)
    void anOperatorSignsInAndSeesTheFleetOfHerTenant() throws Exception {
        signIn("olivia");
        assertEquals("operator", browser.findElement(By.id("roles")).getText());
        waitFor(By.cssSelector("#fleet-table tr[data-thing='demo:console-sensor']"));
        List<String> shown = browser.findElements(By.cssSelector("#fleet-table tr[data-thing]")).stream()
                .map(r -> r.getAttribute("data-thing")).toList();
        assertTrue(shown.contains("demo:console-lamp"), "olivia's fleet: " + shown);
        assertTrue(shown.stream().allMatch(id -> id.startsWith("demo:")), "only tenant demo: " + shown);
        screenshot("fleet");

        // A filter with an error shows the service's problem and where in the filter it is.
        WebElement rql = browser.findElement(By.id("search-rql"));
        rql.sendKeys("eq(attributes/name,");
        rql.submit();
        WebElement position = waitFor(By.cssSelector("[data-role='error-position']"));
        assertTrue(position.getText().startsWith("eq(attributes/name,"), position.getText());
        assertTrue(browser.findElement(By.cssSelector(".problem")).getText().contains("Invalid filter"));
        rql.clear();
        browser.findElement(By.id("search-text")).sendKeys("lamp");
        rql.submit();
        waitUntil("the free text finds the lamp only", d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#fleet-table tr[data-thing]"));
            return rows.size() == 1 && "demo:console-lamp".equals(rows.get(0).getAttribute("data-thing"));
        });

        // Signing out ends the session: the console asks to sign in again.
        browser.findElement(By.id("sign-out")).click();
        waitFor(By.id("sign-in"));
    }

    @Test
    @Order(2)
    void aTwinFollowsItsDeviceLiveAndTakesDesiredState() throws Exception {
        signIn("olivia");
        openTwin("demo:console-sensor");
        MqttClient sensor = device("console-sensor");
        try {
            // A device counts as connected once it listens for commands (Hono's ttd).
            sensor.subscribe("command///req/#", 1);
            waitUntil("the connection shows as the device connects", d -> d.findElements(
                    By.cssSelector("tr[data-path='features/connectivity/status'] [data-role='reported']")).stream()
                    .anyMatch(e -> e.getText().equals("\"connected\"")));
            sensor.publish("telemetry", "{\"temperature\":21.5}".getBytes(StandardCharsets.UTF_8), 1, false);
            waitUntil("the published value shows in the open twin", d -> d.findElements(
                    By.cssSelector("tr[data-path='features/telemetry/temperature'] [data-role='reported']")).stream()
                    .anyMatch(e -> e.getText().equals("21.5")));

            // Its history as a chart, summarized by the service.
            browser.findElement(By.cssSelector("tr[data-path='features/telemetry/temperature'] [data-role='chart']")).click();
            WebElement chart = waitFor(By.cssSelector("#history-chart [data-role='chart']"));
            assertEquals("1", chart.getAttribute("data-buckets"));

            // Desired state: set in the page, open (pending) until the device reports it.
            WebElement adder = browser.findElement(By.cssSelector("[data-feature='telemetry'] [data-role='add-desired']"));
            adder.findElement(By.name("path")).sendKeys("setpoint");
            adder.findElement(By.name("value")).sendKeys("19");
            adder.submit();
            waitFor(By.cssSelector("tr.pending[data-path='features/telemetry/setpoint']"));
            given().auth().oauth2(olivia).get(twin.baseUrl() + "/api/2/things/demo:console-sensor/features/telemetry/desiredProperties/setpoint")
                    .then().statusCode(200).body(equalTo("19"));
            screenshot("twin");
            sensor.publish("telemetry", "{\"setpoint\":19}".getBytes(StandardCharsets.UTF_8), 1, false);
            waitUntil("the delta closes when the device reports the desired value", d -> d.findElements(
                    By.cssSelector("tr.pending[data-path='features/telemetry/setpoint']")).isEmpty()
                    && !d.findElements(By.cssSelector("tr[data-path='features/telemetry/setpoint']")).isEmpty());
        } finally {
            sensor.disconnect();
            sensor.close();
        }
    }

    @Test
    @Order(3)
    void aCommandToADeviceEndsSucceededOnScreen() throws Exception {
        MqttClient lamp = device("console-lamp");
        try {
            lamp.subscribe("command///req/#", 1, (topic, msg) -> {
                String[] s = topic.split("/", -1);
                Thread.ofVirtual().start(() -> {
                    try {
                        lamp.publish("command///res/" + s[4] + "/200", "{\"switched\":true}".getBytes(StandardCharsets.UTF_8),
                                1, false);
                    } catch (MqttException e) {
                        throw new IllegalStateException(e);
                    }
                });
            });
            // The positive control, and the device's subscription routed before the page sends.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().auth().oauth2(olivia)
                    .contentType("application/json").body("true")
                    .post(command.baseUrl() + "/api/2/things/demo:console-lamp/inbox/messages/switch?timeout=5s")
                    .then().statusCode(200));

            signIn("olivia");
            openTwin("demo:console-lamp");
            WebElement form = waitFor(By.id("command-form"));
            By succeeded = By.cssSelector("#command-list tr[data-status='SUCCEEDED']");
            waitUntil("the command sent over REST before is listed", d -> !d.findElements(succeeded).isEmpty());
            int before = browser.findElements(succeeded).size();
            form.findElement(By.name("subject")).sendKeys("switch");
            form.findElement(By.name("payload")).sendKeys("{\"on\":true}");
            form.submit();
            waitUntil("the command sent from the page ends SUCCEEDED, its steps shown", d -> {
                List<WebElement> rows = d.findElements(succeeded);
                return rows.size() == before + 1 && rows.stream().anyMatch(row -> {
                    String text = row.getText();
                    return text.contains("switch") && text.contains("QUEUED") && text.contains("SUCCEEDED")
                            && text.contains("switched");
                });
            });
            screenshot("commands");

            // The commands page across twins, filtered by status, has it too.
            browser.get(twin.baseUrl() + "/console/#/commands");
            WebElement filter = waitFor(By.id("command-filter"));
            new org.openqa.selenium.support.ui.Select(filter.findElement(By.name("status"))).selectByValue("SUCCEEDED");
            filter.submit();
            waitUntil("the filtered list shows the lamp's commands, SUCCEEDED only", d -> d.findElements(
                    By.cssSelector("#command-list tr[data-status='SUCCEEDED']")).stream()
                    .anyMatch(row -> row.getText().contains("demo:console-lamp"))
                    && d.findElements(By.cssSelector("#command-list tr[data-status]")).stream()
                            .allMatch(row -> "SUCCEEDED".equals(row.getAttribute("data-status"))));
        } finally {
            lamp.disconnect();
            lamp.close();
        }
    }

    @Test
    @Order(4)
    void aViewerSeesNoWriteControlsAndAForgedWriteIsRefused() throws Exception {
        signIn("victor");
        assertEquals("viewer", browser.findElement(By.id("roles")).getText());
        openTwin("demo:console-sensor");
        // The positive control: victor reads what olivia's device reported.
        waitFor(By.cssSelector("tr[data-path='features/telemetry/temperature']"));
        assertTrue(browser.findElements(By.cssSelector("[data-role='add-desired'], form.edit, #command-form")).isEmpty(),
                "a viewer gets no write controls");
        screenshot("twin-viewer");

        // A write forged from the page with victor's own token is refused by the service.
        Object status = ((JavascriptExecutor) browser).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const tokens = JSON.parse(sessionStorage.getItem("doppel.console.tokens"));
                fetch("/api/2/things/demo:console-sensor/features/telemetry/desiredProperties/setpoint", {
                  method: "PUT", body: "30",
                  headers: {"Content-Type": "application/json", "Authorization": "Bearer " + tokens.access_token}
                }).then(r => done(r.status), e => done(String(e)));
                """);
        assertEquals(403L, status);
        given().auth().oauth2(olivia).get(twin.baseUrl() + "/api/2/things/demo:console-sensor/features/telemetry/desiredProperties/setpoint")
                .then().statusCode(200).body(equalTo("19"));
    }

    @Test
    @Order(6)
    void aDeviceAdminRegistersADeviceThatThenConnectsAndDisablesIt() throws Exception {
        signIn("admin");
        browser.get(twin.baseUrl() + "/console/#/devices");
        WebElement form = waitFor(By.id("register-device"));
        WebElement tenant = form.findElement(By.name("tenant"));
        tenant.clear();
        tenant.sendKeys("demo");
        form.findElement(By.name("device")).sendKeys("console-new");
        form.findElement(By.name("password")).sendKeys("new-device-pw");
        form.submit();
        waitFor(By.cssSelector("[data-role='registered']"));
        waitFor(By.cssSelector("[data-device='demo:console-new'][data-enabled='true']"));
        screenshot("devices");

        MqttClient fresh = PahoDevices.connect(mqttPort, "console-new", "demo", "new-device-pw");
        assertTrue(fresh.isConnected(), "the device registered in the console connects over MQTT");
        fresh.disconnect();
        fresh.close();

        browser.findElement(By.cssSelector("[data-device='demo:console-new'] [data-role='toggle']")).click();
        waitFor(By.cssSelector("[data-device='demo:console-new'][data-enabled='false']"));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            MqttClient again;
            try {
                again = PahoDevices.connect(mqttPort, "console-new", "demo", "new-device-pw");
            } catch (MqttException refused) {
                return;
            }
            again.disconnect();
            again.close();
            fail("the device disabled in the console still connects");
        });
    }

    @Test
    @Order(5)
    void anotherTenantsUserSeesNoneOfTheDemoTwins() {
        signIn("mallory");
        // The positive control: her own tenant's twin arrives on the same page.
        waitFor(By.cssSelector("#fleet-table tr[data-thing='other:mallory-box']"));
        List<String> shown = browser.findElements(By.cssSelector("#fleet-table tr[data-thing]")).stream()
                .map(r -> r.getAttribute("data-thing")).toList();
        assertEquals(List.of("other:mallory-box"), shown);
        browser.get(twin.baseUrl() + "/console/#/things/demo:console-sensor");
        WebElement problem = waitFor(By.cssSelector(".problem"));
        assertTrue(problem.getText().contains("Not found"), problem.getText());
        assertTrue(browser.findElements(By.cssSelector("tr[data-path]")).isEmpty(), "nothing of the demo twin shown");
    }
}

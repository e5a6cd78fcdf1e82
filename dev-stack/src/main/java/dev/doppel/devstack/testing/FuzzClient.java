package dev.doppel.devstack.testing;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTTP side of a fuzz test: sends each request (once more on a new connection if the pooled one
 * was closed under it, as any client does), counts the answers by class, and keeps every 5xx and
 * every request left without an answer. A request line past the server's limit, or a body past
 * {@code largestBodyRead}, may be refused by closing the connection before it was read (HTTP/1.1
 * allows it; the client then sees no answer): that is counted as {@code closed}, not kept.
 */
public final class FuzzClient {

    /** Vert.x's longest request line ({@code quarkus.http.limits.max-initial-line-length}). */
    public static final int MAX_REQUEST_LINE = 4_096;

    private final HttpClient http = newClient();
    private final String base;
    private final int largestBodyRead;
    private final List<String> serverErrors = new ArrayList<>();
    private final Map<String, Integer> answers = new LinkedHashMap<>();

    /**
     * @param base the API's URL, such as {@code http://localhost:8081/}
     * @param largestBodyRead the largest body the service reads before it answers
     */
    public FuzzClient(String base, int largestBodyRead) {
        this.base = base.replaceAll("/$", "");
        this.largestBodyRead = largestBodyRead;
    }

    private static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    /** The answer, or null when there was none (counted, and kept unless the request line was too long). */
    public HttpResponse<String> send(String method, String pathAndQuery, byte[] body, String contentType,
            Map<String, String> headers) throws InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        headers.forEach(b::header);
        HttpResponse<String> r;
        try {
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException closedUnderUs) {
                // Once more on a connection of its own: the pool may hold more connections the server
                // closed (after the oversized requests it refuses by closing), and the JDK's client may
                // take one of those again.
                try (HttpClient fresh = newClient()) {
                    r = fresh.send(b.build(), HttpResponse.BodyHandlers.ofString());
                }
            }
        } catch (IOException e) {
            if (pathAndQuery.length() > MAX_REQUEST_LINE || body != null && body.length > largestBodyRead) {
                answers.merge("closed", 1, Integer::sum);
                return null;
            }
            serverErrors.add("no answer (" + e.getMessage() + ") " + method + " " + abbreviate(pathAndQuery)
                    + " body " + (body == null ? "-" : body.length + " bytes " + contentType));
            answers.merge("none", 1, Integer::sum);
            return null;
        }
        answers.merge(r.statusCode() / 100 + "xx", 1, Integer::sum);
        if (r.statusCode() >= 500) {
            serverErrors.add(r.statusCode() + " " + method + " " + abbreviate(pathAndQuery) + " body "
                    + (body == null ? "-" : abbreviate(new String(body, StandardCharsets.UTF_8))) + " -> "
                    + abbreviate(r.body() == null ? "" : r.body()));
        }
        return r;
    }

    /** GET of a URL outside the API (a health check, say), not counted. */
    public HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The answers by class ({@code 2xx}, {@code 4xx}, {@code 5xx}, {@code none}, {@code closed}). */
    public Map<String, Integer> answers() {
        return answers;
    }

    public int answered(String statusClass) {
        return answers.getOrDefault(statusClass, 0);
    }

    /** Every 5xx and unanswered request, as one line each. */
    public List<String> serverErrors() {
        return serverErrors;
    }

    /** Writes the counts and every server error to {@code file}, for the run's record. */
    public void report(Path file) throws IOException {
        List<String> lines = new ArrayList<>(List.of("answers: " + answers));
        lines.addAll(serverErrors);
        Files.write(file, lines);
    }

    /** A failure message naming the first server errors, or null when there were none. */
    public String problems() {
        return serverErrors.isEmpty() ? null : serverErrors.size() + " answers were 5xx or none, the first: "
                + serverErrors.subList(0, Math.min(10, serverErrors.size())) + "; all answers: " + answers;
    }

    public static String abbreviate(String s) {
        return s.length() > 160 ? s.substring(0, 160) + "...(" + s.length() + ")" : s;
    }

    /** A path segment or query value, percent-encoded (spaces as %20). */
    public static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}

package dev.doppel.connectivity.mapping;

import com.dashjoin.jsonata.Jsonata;
import com.dashjoin.jsonata.JException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;

/**
 * A custom payload mapping in JSONata (dashjoin's Java implementation). The expression's input is
 * the payload: parsed when it is JSON, else its base64 text. It also sees {@code $base64},
 * {@code $contentType}, {@code $tenant}, {@code $deviceId}, {@code $channel} and {@code $feature}.
 * Its result is mapped like a payload: a Ditto-style partial twin as it stands, any other object as
 * the properties of the message's feature.
 *
 * <p>Sandboxed: JSONata has no I/O, and each evaluation is bounded in time, recursion depth and
 * memory, inside the built-in functions too ({@link MappingSandbox}); one that runs over fails with
 * {@code mapping-timeout} or {@code mapping-too-large}.
 */
public final class JsonataMapping {

    /** What a mapping knows about the message besides its payload. */
    public record Message(String tenant, String deviceId, String channel, String contentType, String feature) {
    }

    private final String expression;
    private final Jsonata compiled;
    private final Duration timeLimit;
    private final int maxDepth;

    private JsonataMapping(String expression, Jsonata compiled, Duration timeLimit, int maxDepth) {
        this.expression = expression;
        this.compiled = compiled;
        this.timeLimit = timeLimit;
        this.maxDepth = maxDepth;
    }

    /** Compiles an expression; a syntax error is an {@code invalid-mapping} with JSONata's message. */
    public static JsonataMapping compile(String expression, Duration timeLimit, int maxDepth) throws MappingException {
        if (expression == null || expression.isBlank()) {
            throw new MappingException("invalid-mapping", "the expression is empty");
        }
        try {
            return new JsonataMapping(expression, Jsonata.jsonata(expression), timeLimit, maxDepth);
        } catch (JException | IllegalArgumentException e) {
            throw new MappingException("invalid-mapping", "the expression does not compile: " + e.getMessage());
        } catch (RuntimeException e) {
            throw new MappingException("invalid-mapping", "the expression does not compile: " + e);
        }
    }

    public String expression() {
        return expression;
    }

    /** Runs the expression on a payload and maps its result. */
    public MappedReport apply(byte[] payload, Message message, ObjectMapper json, DefaultPayloadMapper mapper)
            throws MappingException {
        byte[] body = payload == null ? new byte[0] : payload;
        String base64 = Base64.getEncoder().encodeToString(body);
        Object input;
        if (isJson(message.contentType())) {
            try {
                input = json.readValue(body, Object.class);
            } catch (IOException e) {
                throw new MappingException("malformed-json", "payload is not valid JSON");
            }
        } else {
            input = base64; // binary reaches the mapping as base64
        }
        Jsonata.Frame frame = compiled.createFrame();
        MappingSandbox sandbox = new MappingSandbox(timeLimit, maxDepth);
        sandbox.install(frame);
        frame.bind("base64", base64);
        frame.bind("contentType", message.contentType());
        frame.bind("tenant", message.tenant());
        frame.bind("deviceId", message.deviceId());
        frame.bind("channel", message.channel());
        frame.bind("feature", message.feature());
        Object result;
        try (sandbox) {
            result = compiled.evaluate(input, frame);
        } catch (RuntimeException e) {
            throw failure(e);
        } catch (StackOverflowError e) {
            throw new MappingException("mapping-timeout", "the mapping recursed too deep");
        }
        if (result == null) {
            throw new MappingException("mapping-empty", "the mapping gave no result");
        }
        JsonNode tree;
        try {
            tree = json.valueToTree(result);
        } catch (IllegalArgumentException e) {
            throw new MappingException("mapping-failed", "the mapping's result is not JSON: " + e.getMessage());
        }
        if (!tree.isObject()) {
            throw new MappingException("not-an-object", "the mapping must give an object, not " + tree.getNodeType()
                    .toString().toLowerCase(Locale.ROOT));
        }
        return mapper.map(tree, message.feature());
    }

    /** What ended an evaluation, as the mapping's error: a bound of the sandbox, or the library's own. */
    private MappingException failure(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MappingSandbox.Exceeded x) {
                return new MappingException(x.code, x.getMessage());
            }
        }
        if (e instanceof JException j) {
            String error = String.valueOf(j.getError());
            if (error.startsWith("Expression evaluation timeout") || error.startsWith("Stack overflow")) {
                return new MappingException("mapping-timeout", "the mapping ran longer than " + timeLimit.toMillis()
                        + " ms or recursed deeper than " + maxDepth);
            }
            return new MappingException("mapping-failed", "the mapping failed: " + e.getMessage());
        }
        return new MappingException("mapping-failed", "the mapping failed: " + e);
    }

    static boolean isJson(String contentType) {
        return contentType == null || contentType.toLowerCase(Locale.ROOT).contains("json");
    }
}

package dev.doppel.connectivity.bridge;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.doppel.contracts.ThingId;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A connection to an external MQTT broker that a fleet already talks to. Its subscriptions say which
 * topics carry which device's data: {@code {n}} in a template is level n (from 0) of the topic, so
 * filter {@code plant/+/meters/+} with device {@code {3}} reads {@code plant/north/meters/m-7} as
 * device {@code m-7} of the connection's tenant. Commands for those devices are published to
 * {@code commandTopic} ({@code {device}}, {@code {subject}}, {@code {requestId}}), and answers are read
 * from {@code responses}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BridgeDefinition(String uri, String username, String password, String clientId,
        List<Subscription> subscriptions, String commandTopic, Responses responses, Boolean enabled) {

    private static final Pattern LEVEL = Pattern.compile("\\{(\\d+)}");

    /** Topics of one kind of message, and how a topic names its device. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Subscription(String filter, String device, String channel, String feature, String contentType,
            Integer qos) {
    }

    /** Where devices answer commands: the topic levels of device, request id and status. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Responses(String filter, String device, String requestId, String status) {
    }

    public boolean isEnabled() {
        return enabled == null || enabled;
    }

    /** Whether the broker is reached over TLS ({@code ssl://}, {@code mqtts://}); of a usable definition. */
    public boolean tls() {
        return URI.create(uri).getScheme().toLowerCase(Locale.ROOT).matches("ssl|mqtts");
    }

    /** The broker's host, of a usable definition. */
    public String brokerHost() {
        return URI.create(uri).getHost();
    }

    /** The broker's port: the URI's, or MQTT's default (1883, 8883 over TLS). */
    public int brokerPort() {
        int port = URI.create(uri).getPort();
        return port > 0 ? port : tls() ? 8883 : 1883;
    }

    /** Every problem with the definition, empty when it is usable. */
    public List<String> problems(String tenant) {
        List<String> problems = new ArrayList<>();
        if (uri == null) {
            problems.add("uri is required, e.g. tcp://broker.example:1883 or ssl://broker.example:8883");
        } else {
            try {
                URI u = URI.create(uri);
                String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
                if (!List.of("tcp", "mqtt", "ssl", "mqtts").contains(scheme) || u.getHost() == null) {
                    problems.add("uri must be tcp://host:port or ssl://host:port");
                }
            } catch (IllegalArgumentException e) {
                problems.add("uri is not a URI: " + e.getMessage());
            }
        }
        if ((username == null) != (password == null)) {
            problems.add("username and password come together");
        }
        if (subscriptions == null || subscriptions.isEmpty()) {
            problems.add("at least one subscription is required");
        } else {
            for (int i = 0; i < subscriptions.size(); i++) {
                Subscription s = subscriptions.get(i);
                String at = "subscription " + i + ": ";
                if (s == null || !validFilter(s.filter())) {
                    problems.add(at + "filter is an MQTT topic filter ('+' for one level, '#' at the end)");
                    continue;
                }
                checkTemplate(problems, at + "device", s.device(), s.filter(), true);
                checkTemplate(problems, at + "feature", s.feature(), s.filter(), false);
                if (s.channel() != null && !List.of("telemetry", "event").contains(s.channel())) {
                    problems.add(at + "channel is telemetry or event");
                }
                if (s.qos() != null && (s.qos() < 0 || s.qos() > 1)) {
                    problems.add(at + "qos is 0 or 1");
                }
            }
        }
        if (commandTopic != null && (commandTopic.contains("+") || commandTopic.contains("#")
                || !commandTopic.contains("{device}"))) {
            problems.add("commandTopic is a topic (no wildcards) with {device}, and may use {subject} and {requestId}");
        }
        if (responses != null) {
            if (!validFilter(responses.filter())) {
                problems.add("responses: filter is an MQTT topic filter");
            } else {
                checkTemplate(problems, "responses: device", responses.device(), responses.filter(), true);
                checkTemplate(problems, "responses: requestId", responses.requestId(), responses.filter(), true);
                checkTemplate(problems, "responses: status", responses.status(), responses.filter(), true);
            }
        }
        if (tenant != null && !ThingId.isValid(tenant + ":x")) {
            problems.add("invalid tenant " + tenant);
        }
        return problems;
    }

    private static void checkTemplate(List<String> problems, String what, String template, String filter,
            boolean required) {
        if (template == null) {
            if (required) {
                problems.add(what + " is required: a template such as {1} naming topic levels");
            }
            return;
        }
        String[] levels = filter.split("/", -1);
        Matcher m = LEVEL.matcher(template);
        while (m.find()) {
            int n = Integer.parseInt(m.group(1));
            if (n >= levels.length || !levels[n].equals("+")) {
                problems.add(what + ": {" + n + "} must name a '+' level of " + filter);
            }
        }
    }

    static boolean validFilter(String filter) {
        if (filter == null || filter.isEmpty() || filter.length() > 512) {
            return false;
        }
        String[] levels = filter.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String l = levels[i];
            if (l.equals("#") ? i != levels.length - 1 : l.contains("#") || (l.contains("+") && !l.equals("+"))) {
                return false;
            }
        }
        return true;
    }

    /** The topic's levels if it matches the filter, else null. */
    static String[] match(String filter, String topic) {
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                return t;
            }
            if (i >= t.length || (!f[i].equals("+") && !f[i].equals(t[i]))) {
                return null;
            }
        }
        return f.length == t.length ? t : null;
    }

    /** A template with {@code {n}} replaced by topic levels. */
    static String expand(String template, String[] levels) {
        Matcher m = LEVEL.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            int n = Integer.parseInt(m.group(1));
            m.appendReplacement(out, Matcher.quoteReplacement(n < levels.length ? levels[n] : ""));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A template with named placeholders replaced. */
    static String expand(String template, Map<String, String> values) {
        String out = template;
        for (Map.Entry<String, String> e : values.entrySet()) {
            out = out.replace("{" + e.getKey() + "}", e.getValue());
        }
        return out;
    }

    /** The same definition with its password hidden, for reading back. */
    public BridgeDefinition redacted() {
        return withPassword(password == null ? null : "***");
    }

    /** The same definition with another password (null: none). */
    public BridgeDefinition withPassword(String other) {
        return new BridgeDefinition(uri, username, other, clientId, subscriptions, commandTopic, responses, enabled);
    }
}

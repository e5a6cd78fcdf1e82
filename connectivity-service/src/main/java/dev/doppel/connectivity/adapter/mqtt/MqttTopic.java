package dev.doppel.connectivity.adapter.mqtt;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A device-side topic in Eclipse Hono's MQTT form: {@code telemetry|t|event|e[/{tenant}/{device}][/?bag]}
 * for reports, {@code command///res/{req-id}/{status}} (or {@code c///s/...}) for command answers, and
 * {@code command//{device}/res/{req-id}/{status}} for a gateway's answer on behalf of a device.
 */
public sealed interface MqttTopic {

    record Report(String channel, String tenant, String deviceId, Map<String, String> bag) implements MqttTopic {
    }

    /** {@code deviceId} is empty when the connected device answers for itself. */
    record CommandResponse(String deviceId, String requestId, int status) implements MqttTopic {
    }

    /** Returns null for topics a device may not publish to. */
    static MqttTopic parse(String topic) {
        if (topic == null || topic.isEmpty() || topic.length() > 1024) {
            return null;
        }
        String path = topic;
        Map<String, String> bag = Map.of();
        int q = topic.indexOf("/?");
        if (q >= 0) {
            path = topic.substring(0, q);
            bag = parseBag(topic.substring(q + 2));
            if (bag == null) {
                return null;
            }
        }
        String[] s = path.split("/", -1);
        String channel = switch (s[0]) {
            case "telemetry", "t" -> "telemetry";
            case "event", "e" -> "event";
            default -> null;
        };
        if (channel != null) {
            if (s.length == 1 || (s.length == 2 && s[1].isEmpty())) {
                return new Report(channel, "", "", bag);
            }
            if (s.length == 3 || (s.length == 4 && s[3].isEmpty())) {
                return new Report(channel, s[1], s[2], bag);
            }
            return null;
        }
        boolean longForm = "command".equals(s[0]) && s.length == 6 && "res".equals(s[3]);
        boolean shortForm = "c".equals(s[0]) && s.length == 6 && "s".equals(s[3]);
        if ((longForm || shortForm) && s[1].isEmpty() && !s[4].isEmpty() && q < 0) {
            try {
                int status = Integer.parseInt(s[5]);
                return status >= 200 && status <= 599 ? new CommandResponse(s[2], s[4], status) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private static Map<String, String> parseBag(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        if (query.isEmpty()) {
            return out;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                return null;
            }
            try {
                out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return out;
    }

    /**
     * A subscription through which a device asks for commands, in Hono's forms: its own
     * ({@code command///req/#}, short {@code c///q/#}), as a gateway those of all devices that name it in
     * their {@code via} ({@code command//+/req/#}), or of one of them ({@code command//{device}/req/#}).
     *
     * @param deviceId empty for the device's own commands, {@code +} for all its devices, else one device
     */
    record CommandSubscription(boolean shortForm, String deviceId) {

        static final String ALL = "+";

        /** Returns null for filters that are not a command subscription. */
        static CommandSubscription parse(String filter) {
            if (filter == null || filter.length() > 1024) {
                return null;
            }
            String[] s = filter.split("/", -1);
            if (s.length != 5 || !s[1].isEmpty() || !"#".equals(s[4])) {
                return null;
            }
            boolean longForm = "command".equals(s[0]) && "req".equals(s[3]);
            boolean shortForm = "c".equals(s[0]) && "q".equals(s[3]);
            if (!longForm && !shortForm) {
                return null;
            }
            String device = s[2];
            if (!device.isEmpty() && !ALL.equals(device) && (device.contains("+") || device.contains("#"))) {
                return null;
            }
            return new CommandSubscription(shortForm, device);
        }

        boolean own() {
            return deviceId.isEmpty();
        }

        boolean all() {
            return ALL.equals(deviceId);
        }

        String filter() {
            return shortForm ? "c//" + deviceId + "/q/#" : "command//" + deviceId + "/req/#";
        }

        /**
         * {@code command//{device}/req/{req-id}/{subject}}, the device empty for the connected device's
         * own commands; one-way commands have an empty req-id.
         */
        String topic(String device, String requestId, String subject) {
            return (shortForm ? "c//" : "command//") + (device == null ? "" : device) + (shortForm ? "/q/" : "/req/")
                    + (requestId == null ? "" : requestId) + "/" + subject;
        }
    }
}

package dev.doppel.command.mapping;

import dev.doppel.command.model.Command;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/** Command → its JSON representation in the commands API. */
public final class CommandApiMapper {

    private CommandApiMapper() {
    }

    public static Map<String, Object> toApi(Command c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("thingId", c.thingId());
        m.put("subject", c.subject());
        m.put("status", c.status().name());
        m.put("contentType", c.contentType());
        m.put("timeout", c.timeout().toMillis() + "ms");
        m.put("ttl", c.ttl().toMillis() + "ms");
        if (c.expiresAt() != null) {
            m.put("expiresAt", c.expiresAt().toString());
        }
        m.put("createdAt", c.createdAt().toString());
        m.put("history", c.history().stream().map(h -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("status", h.status().name());
            e.put("at", h.at().toString());
            if (h.reason() != null) {
                e.put("reason", h.reason());
            }
            return e;
        }).toList());
        if (c.response() != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("status", c.response().statusCode());
            r.put("contentType", c.response().contentType());
            r.put("payload", isText(c.response().contentType())
                    ? new String(c.response().payload(), StandardCharsets.UTF_8)
                    : Base64.getEncoder().encodeToString(c.response().payload()));
            m.put("response", r);
        }
        return m;
    }

    static boolean isText(String contentType) {
        return contentType != null && (contentType.startsWith("text/") || contentType.contains("json"));
    }
}

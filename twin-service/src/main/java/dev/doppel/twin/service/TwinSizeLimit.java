package dev.doppel.twin.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doppel.twin.model.InvalidReport;
import dev.doppel.twin.model.Twin;
import dev.doppel.twin.model.TwinTree;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The largest a thing may grow ({@code doppel.twin.max-document-bytes}, as its JSON), for API edits
 * and device reports alike: one device that keeps adding keys must not grow its twin without end.
 */
@ApplicationScoped
public class TwinSizeLimit {

    private final ObjectMapper json;
    private final int maxDocumentBytes;

    public TwinSizeLimit(ObjectMapper json,
            @ConfigProperty(name = "doppel.twin.max-document-bytes", defaultValue = "262144") int maxDocumentBytes) {
        this.json = json;
        this.maxDocumentBytes = maxDocumentBytes;
    }

    /** Throws {@link InvalidReport} {@code too-large} if the thing is over the limit. */
    public void check(Twin twin) {
        int size = size(twin);
        if (size > maxDocumentBytes) {
            throw new InvalidReport("too-large", "the thing would be " + size + " bytes; the limit is "
                    + maxDocumentBytes);
        }
    }

    /** Bytes the thing may still grow by (negative when it is over the limit). */
    public long room(Twin twin) {
        return (long) maxDocumentBytes - size(twin);
    }

    public int maxDocumentBytes() {
        return maxDocumentBytes;
    }

    private int size(Twin twin) {
        try {
            return json.writeValueAsBytes(TwinTree.of(twin)).length;
        } catch (JsonProcessingException e) {
            throw new InvalidReport("invalid-twin", "the thing cannot be written as JSON");
        }
    }
}

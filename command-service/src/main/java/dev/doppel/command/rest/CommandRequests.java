package dev.doppel.command.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import java.util.regex.Pattern;

/**
 * The checks every way of sending a command shares: thing (and its tenant), subject, size. Whether the
 * thing is a registered device is asked last, of {@link dev.doppel.command.service.KnownThings}.
 */
public final class CommandRequests {

    private static final Pattern SUBJECT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._~:-]{0,127}");

    private CommandRequests() {
    }

    /** Parses the thing id; another tenant's thing reads as missing. */
    public static ThingId thing(String thingId, Caller caller) {
        ThingId id = ProblemException.parseThingId(thingId);
        if (!caller.mayAccess(id.tenant())) {
            throw new ProblemException(Problem.of("thing-not-found", "Thing not found", 404,
                    "The thing with id '" + id + "' could not be found or the requester may not use it.", null));
        }
        return id;
    }

    public static void subject(String subject) {
        if (!SUBJECT.matcher(subject).matches()) {
            throw new ProblemException(Problem.of("invalid-subject", "Invalid message subject", 400,
                    "subject '" + subject + "': a letter or digit, then up to 127 letters, digits or ._~:-", null));
        }
    }

    public static void size(byte[] payload, int max) {
        if (payload.length > max) {
            throw new ProblemException(Problem.of("payload-too-large", "Payload too large", 413,
                    "payload of " + payload.length + " bytes exceeds " + max, null));
        }
    }
}

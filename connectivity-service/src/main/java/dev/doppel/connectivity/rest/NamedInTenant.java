package dev.doppel.connectivity.rest;

import dev.doppel.contracts.Problem;
import dev.doppel.contracts.ThingId;
import dev.doppel.support.rest.ProblemException;
import dev.doppel.support.security.Caller;
import java.util.regex.Pattern;

/**
 * A tenant's named registry resource (a payload mapping, a broker connection): its name and tenant
 * are checked alike, and one the caller may not see is as absent as one that does not exist.
 */
final class NamedInTenant {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private final String kind;
    private final String problemKind;

    /** {@code kind} as the problem's words say it ("payload mapping"), {@code problemKind} as its type ("mapping"). */
    NamedInTenant(String kind, String problemKind) {
        this.kind = kind;
        this.problemKind = problemKind;
    }

    void check(Caller caller, String tenant, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ProblemException(Problem.of("invalid-" + problemKind + "-name", "Invalid " + problemKind
                    + " name", 400, "a " + problemKind + " name is 1 to 64 letters, digits, '_', '.' or '-'", null));
        }
        if (!ThingId.isValid(tenant + ":x")) {
            throw new ProblemException(Problem.of("invalid-tenant", "Invalid tenant", 400, "invalid tenant " + tenant,
                    null));
        }
        if (!caller.mayAccess(tenant)) {
            throw notFound(tenant, name);
        }
    }

    ProblemException notFound(String tenant, String name) {
        String title = Character.toUpperCase(problemKind.charAt(0)) + problemKind.substring(1) + " not found";
        return new ProblemException(Problem.of(problemKind + "-not-found", title, 404,
                "tenant " + tenant + " has no " + kind + " named " + name, null));
    }
}

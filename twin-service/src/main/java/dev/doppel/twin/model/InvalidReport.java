package dev.doppel.twin.model;

/** A report that cannot be applied to a twin; {@code reason} is a stable metric tag. */
public final class InvalidReport extends RuntimeException {

    private final String reason;

    public InvalidReport(String reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}

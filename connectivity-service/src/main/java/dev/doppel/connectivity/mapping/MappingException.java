package dev.doppel.connectivity.mapping;

/** A payload that cannot become twin changes; {@code reason} is a stable metric tag. */
public final class MappingException extends Exception {

    private final String reason;

    public MappingException(String reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}

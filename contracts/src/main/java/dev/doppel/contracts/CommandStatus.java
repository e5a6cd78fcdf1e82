package dev.doppel.contracts;

/** The lifecycle of a command. */
public enum CommandStatus {
    QUEUED, SENT, DELIVERED, SUCCEEDED, FAILED, TIMED_OUT, EXPIRED, CANCELLED;

    public boolean isTerminal() {
        return switch (this) {
            case SUCCEEDED, FAILED, TIMED_OUT, EXPIRED, CANCELLED -> true;
            default -> false;
        };
    }
}

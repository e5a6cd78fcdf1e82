package dev.doppel.connectivity.egress;

/** A connection a tenant's configuration asks for that {@link EgressPolicy} does not allow; the message says why. */
public final class EgressRefused extends RuntimeException {

    public EgressRefused(String reason) {
        super(reason, null, false, false);
    }
}

package dev.doppel.contracts;

import java.time.Instant;

/**
 * Something a device's login depends on changed in the registry, told by the connectivity instance
 * that took the change to every instance ({@link Topics#REGISTRY_CHANGES}): each forgets the registry
 * answers it keeps and looks again at the connections it holds, ending those that would not be let in
 * now (a disabled or deleted device, a disabled tenant, a revoked certificate, changed credentials).
 *
 * @param thingId the device, or null when the change concerns the whole tenant
 * @param what    {@link #DEVICE}, {@link #CREDENTIALS}, {@link #TENANT} or {@link #TRUST}
 */
public record RegistryChanged(
        String eventId,
        String thingId,
        String tenant,
        String what,
        Instant at) implements DoppelEvent {

    /** The device's registration (enabled, via, mapping) or the device deleted. */
    public static final String DEVICE = "device";
    /** The device's credentials replaced or deleted. */
    public static final String CREDENTIALS = "credentials";
    /** The tenant enabled or disabled. */
    public static final String TENANT = "tenant";
    /** The tenant's trusted CAs or revocation lists. */
    public static final String TRUST = "trust";

    public static RegistryChanged of(ThingId device, String what) {
        return new RegistryChanged(java.util.UUID.randomUUID().toString(), device.toString(), device.tenant(), what,
                Instant.now());
    }

    public static RegistryChanged ofTenant(String tenant, String what) {
        return new RegistryChanged(java.util.UUID.randomUUID().toString(), null, tenant, what, Instant.now());
    }

    @Override
    public String type() {
        return EventTypes.REGISTRY_CHANGED;
    }
}

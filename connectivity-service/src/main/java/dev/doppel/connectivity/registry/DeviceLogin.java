package dev.doppel.connectivity.registry;

import dev.doppel.connectivity.limits.SourceRates;
import dev.doppel.connectivity.registry.DeviceRegistry.AuthResult;
import dev.doppel.contracts.ThingId;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * A device's login as every protocol adapter does it: the user name is {@code auth-id@tenant}, the
 * password is checked against the registry, and repeated wrong passwords are throttled per login.
 * Each adapter turns the outcome into its protocol's answer (a CONNACK code, an HTTP problem).
 */
@ApplicationScoped
public class DeviceLogin {

    public enum Outcome {
        OK, BAD_USERNAME, THROTTLED, BAD_CREDENTIALS, DEVICE_DISABLED, TENANT_DISABLED,
        /** Too many passwords being checked at once ({@link PasswordChecks}): try again shortly. */
        BUSY,
        /** The source address checks passwords faster than it may ({@link SourceRates}): try again later. */
        RATE_LIMITED
    }

    /** The outcome, and the device when it is {@link Outcome#OK}. */
    public record Result(Outcome outcome, ThingId device) {
    }

    private final DeviceRegistry registry;
    private final LoginThrottle throttle;
    private final SourceRates sourceRates;
    private final SharedLoginFailures shared;

    public DeviceLogin(DeviceRegistry registry, LoginThrottle throttle, SourceRates sourceRates,
            SharedLoginFailures shared) {
        this.registry = registry;
        this.throttle = throttle;
        this.sourceRates = sourceRates;
        this.shared = shared;
    }

    /**
     * Fails only when the registry cannot be asked; every answer about the device is an outcome.
     * {@code source} is the address the device connects from (the throttle holds per login and source,
     * and a slow password check takes one of its allowance, {@link SourceRates}).
     * A user name that cannot be a login (its tenant or auth-id malformed or too long) is refused before
     * anything is looked up or hashed.
     */
    public Uni<Result> login(String username, String password, String source) {
        int at = username == null ? -1 : username.lastIndexOf('@');
        if (at <= 0 || at == username.length() - 1 || password == null
                || !DeviceRegistry.isAuthId(username.substring(0, at)) || !ThingId.isTenant(username.substring(at + 1))) {
            return Uni.createFrom().item(new Result(Outcome.BAD_USERNAME, null));
        }
        String authId = username.substring(0, at);
        String tenant = username.substring(at + 1);
        String key = LoginThrottle.key(tenant + "/" + authId, source);
        if (!throttle.begin(key)) {
            // Too many wrong passwords, or as many being checked as are left: refused without looking at this one.
            return Uni.createFrom().item(new Result(Outcome.THROTTLED, null));
        }
        // Whether this login's password is hashed (not one matched lately): only those ask, and tell, the
        // throttle shared by the replicas.
        boolean[] checked = {false};
        return registry.authenticate(tenant, authId, password, () -> {
            if (!sourceRates.admit(source, SourceRates.Limit.PASSWORD_CHECK)) {
                return Uni.createFrom().item(AuthResult.Outcome.RATE_LIMITED);
            }
            checked[0] = true;
            return shared.blocked(key).map(blocked -> blocked ? AuthResult.Outcome.THROTTLED : null);
        }).call(result -> switch (result.outcome()) {
            case OK -> checked[0] ? shared.succeeded(key) : Uni.createFrom().voidItem();
            case BAD_CREDENTIALS -> shared.failed(key);
            default -> Uni.createFrom().voidItem();
        }).map(result -> switch (result.outcome()) {
            case OK -> {
                throttle.succeeded(key);
                yield new Result(Outcome.OK, result.device());
            }
            case DISABLED -> {
                throttle.abandoned(key);
                yield new Result(Outcome.DEVICE_DISABLED, null);
            }
            case TENANT_DISABLED -> {
                throttle.abandoned(key);
                yield new Result(Outcome.TENANT_DISABLED, null);
            }
            case BUSY -> {
                throttle.abandoned(key);
                yield new Result(Outcome.BUSY, null);
            }
            case RATE_LIMITED -> {
                throttle.abandoned(key);
                yield new Result(Outcome.RATE_LIMITED, null);
            }
            case THROTTLED -> {
                throttle.abandoned(key);
                yield new Result(Outcome.THROTTLED, null);
            }
            case BAD_CREDENTIALS -> {
                throttle.failed(key);
                yield new Result(Outcome.BAD_CREDENTIALS, null);
            }
        }).onFailure().invoke(() -> throttle.abandoned(key));
    }
}

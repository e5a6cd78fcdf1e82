package dev.doppel.connectivity.registry;

import dev.doppel.contracts.ThingId;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.jboss.logging.Logger;

/**
 * A device's login with an X.509 client certificate, as Eclipse Hono does it: the certificate's
 * issuer names the tenant whose trusted CA (registered under that subject DN) must have signed it;
 * its subject DN (RFC 2253) is the auth-id of the device's {@code x509-cert} credential.
 *
 * <p>The TLS layer has only checked that the client holds the certificate's private key; whether
 * anyone trusts the certificate is decided here, against the registry as it is now, so a CA added
 * or removed over REST counts from the next connection on, on every replica.
 */
@ApplicationScoped
public class CertificateLogin {

    private static final Logger LOG = Logger.getLogger(CertificateLogin.class);
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

    public enum Outcome {
        OK,
        /** No tenant trusts its issuer, the issuer's CA did not sign it, or it is not for client authentication. */
        UNTRUSTED,
        EXPIRED,
        /** Issued by a trusted CA, but on that CA's revocation list. */
        REVOKED,
        NOT_YET_VALID,
        /** Trusted, but no device has an {@code x509-cert} credential for its subject DN. */
        UNKNOWN_SUBJECT,
        DEVICE_DISABLED,
        TENANT_DISABLED
    }

    /** The outcome, the device when it is {@link Outcome#OK}, and the certificate's subject and issuer (for logs). */
    public record Result(Outcome outcome, ThingId device, String subjectDn, String issuerDn) {
    }

    private final DeviceRegistry registry;

    public CertificateLogin(DeviceRegistry registry) {
        this.registry = registry;
    }

    /**
     * @param chain the client's certificate chain as the TLS session has it, its own certificate first
     * @return fails only when the registry cannot be asked
     */
    public Uni<Result> login(Certificate[] chain) {
        if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate device)) {
            return Uni.createFrom().item(new Result(Outcome.UNTRUSTED, null, null, null));
        }
        String subject = Certificates.subject(device);
        String issuer = device.getIssuerX500Principal().getName(X500Principal.RFC2253);
        Date now = new Date();
        try {
            device.checkValidity(now);
        } catch (CertificateExpiredException e) {
            return Uni.createFrom().item(new Result(Outcome.EXPIRED, null, subject, issuer));
        } catch (CertificateNotYetValidException e) {
            return Uni.createFrom().item(new Result(Outcome.NOT_YET_VALID, null, subject, issuer));
        }
        if (!forClientAuthentication(device)) {
            return Uni.createFrom().item(new Result(Outcome.UNTRUSTED, null, subject, issuer));
        }
        return registry.findTrustAnchors(device.getIssuerX500Principal()).chain(anchors -> {
            X509Certificate ca = anchors.isEmpty() ? null : issuerAmong(device, anchors.get().cas(), now);
            if (ca == null) {
                return Uni.createFrom().item(new Result(Outcome.UNTRUSTED, null, subject, issuer));
            }
            if (revoked(device, ca, anchors.get().crls())) {
                return Uni.createFrom().item(new Result(Outcome.REVOKED, null, subject, issuer));
            }
            String tenant = anchors.get().tenant();
            return registry.findCertificateDevice(tenant, subject).chain(found -> found.isEmpty()
                    ? Uni.createFrom().item(new Result(Outcome.UNKNOWN_SUBJECT, null, subject, issuer))
                    : registry.status(found.get()).map(status -> switch (status) {
                        case ENABLED -> new Result(Outcome.OK, found.get(), subject, issuer);
                        case DISABLED -> new Result(Outcome.DEVICE_DISABLED, null, subject, issuer);
                        case TENANT_DISABLED -> new Result(Outcome.TENANT_DISABLED, null, subject, issuer);
                        case UNKNOWN -> new Result(Outcome.UNKNOWN_SUBJECT, null, subject, issuer);
                    }));
        });
    }

    /**
     * Whether the CA's revocation list names the certificate. The list was checked to be the CA's
     * when it was stored; one past its {@code nextUpdate} still counts (a revocation is not undone
     * by time passing), newer revocations are then only missing from it.
     */
    static boolean revoked(X509Certificate device, X509Certificate ca, List<DeviceRegistry.RevocationList> crls) {
        if (crls.isEmpty()) {
            return false;
        }
        String fingerprint = Certificates.fingerprint(ca);
        for (DeviceRegistry.RevocationList list : crls) {
            if (list.caFingerprint().equals(fingerprint) && list.crl().isRevoked(device)) {
                return true;
            }
        }
        return false;
    }

    /**
     * PKIX validation of the device certificate alone against each of the CAs (Hono validates the
     * same path): the signature, the validity period and the name chaining. A CA that has expired
     * vouches for nothing. Intermediate CAs the client sends are not followed: the CA that issued the
     * device certificate is the one registered.
     *
     * @return the CA that issued it, null if none did
     */
    static X509Certificate issuerAmong(X509Certificate device, List<X509Certificate> cas, Date now) {
        for (X509Certificate ca : cas) {
            try {
                ca.checkValidity(now);
                PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
                params.setRevocationEnabled(false);
                params.setDate(now);
                CertPathValidator.getInstance("PKIX").validate(
                        CertificateFactory.getInstance("X.509").generateCertPath(List.of(device)), params);
                return ca;
            } catch (GeneralSecurityException e) {
                LOG.debugf("certificate %s is not vouched for by CA %s: %s", Certificates.subject(device),
                        Certificates.subject(ca), e.getMessage());
            }
        }
        return null;
    }

    /**
     * What the JDK's own trust manager checks of a client certificate and PKIX does not: when it
     * restricts its key's use, client authentication (TLS signatures) must be among them.
     */
    static boolean forClientAuthentication(X509Certificate device) {
        try {
            List<String> extended = device.getExtendedKeyUsage();
            if (extended != null && !extended.contains(CLIENT_AUTH) && !extended.contains(ANY_EXTENDED_KEY_USAGE)) {
                return false;
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        boolean[] keyUsage = device.getKeyUsage();
        return keyUsage == null || keyUsage[0]; // digitalSignature
    }
}

package dev.doppel.connectivity.registry;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/**
 * X.509 helpers of the registry: reading a tenant's CA certificate as it comes in over REST (PEM,
 * or base64 DER as Eclipse Hono's tenant API has it), checking it can serve as a trust anchor, and
 * the forms of a distinguished name the registry keys on.
 */
public final class Certificates {

    private Certificates() {
    }

    /**
     * One certificate, PEM ({@code -----BEGIN CERTIFICATE-----}) or base64 DER.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static X509Certificate parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("cert is the CA certificate in PEM (or base64 DER)");
        }
        byte[] bytes;
        if (text.contains("-----BEGIN")) {
            bytes = text.getBytes(StandardCharsets.US_ASCII);
        } else {
            try {
                bytes = Base64.getMimeDecoder().decode(text.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cert is neither PEM nor base64 DER");
            }
        }
        Collection<? extends Certificate> read;
        try {
            read = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes));
        } catch (CertificateException e) {
            throw new IllegalArgumentException("cert is not an X.509 certificate (" + e.getMessage() + ")");
        }
        if (read.size() != 1) {
            throw new IllegalArgumentException("cert holds " + read.size() + " certificates; give one per entry");
        }
        return (X509Certificate) read.iterator().next();
    }

    /** Parses DER as stored. */
    static X509Certificate fromDer(byte[] der) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException e) {
            throw new IllegalStateException("a stored certificate cannot be read", e);
        }
    }

    static byte[] der(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What keeps a certificate from being a trust anchor for device certificates: none when it can be one. */
    public static List<String> caProblems(X509Certificate ca, Date now) {
        List<String> problems = new ArrayList<>();
        if (ca.getBasicConstraints() < 0) {
            problems.add(subject(ca) + " is not a CA certificate (basicConstraints CA:TRUE is missing)");
        }
        boolean[] keyUsage = ca.getKeyUsage();
        if (keyUsage != null && (keyUsage.length < 6 || !keyUsage[5])) {
            problems.add(subject(ca) + " may not sign certificates (its keyUsage lacks keyCertSign)");
        }
        if (ca.getNotAfter().before(now)) {
            problems.add(subject(ca) + " expired on " + ca.getNotAfter().toInstant());
        }
        return problems;
    }

    public static String pem(X509Certificate certificate) {
        return "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der(certificate))
                + "\n-----END CERTIFICATE-----\n";
    }

    /** The subject DN in RFC 2253 form, as device certificates' auth-ids are written. */
    public static String subject(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName(X500Principal.RFC2253);
    }

    /**
     * The RFC 2253 form of a DN written by hand ({@code CN=device-1, O=ACME} gives
     * {@code CN=device-1,O=ACME}), so it compares equal to the subject of the certificate.
     *
     * @throws IllegalArgumentException when it is not a distinguished name
     */
    public static String normalizeDn(String dn) {
        return new X500Principal(dn).getName(X500Principal.RFC2253);
    }

    /**
     * The key a CA is found by: its subject in canonical form (case and spacing do not matter), as
     * a device certificate's issuer.
     */
    static String key(X500Principal name) {
        return name.getName(X500Principal.CANONICAL);
    }
}

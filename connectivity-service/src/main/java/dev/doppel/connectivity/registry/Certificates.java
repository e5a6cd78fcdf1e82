package dev.doppel.connectivity.registry;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CRLException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * X.509 helpers of the registry: reading a tenant's CA certificate or certificate revocation list
 * as it comes in over REST (PEM, or base64 DER as Eclipse Hono's tenant API has it), checking it can
 * serve as a trust anchor or a CA's revocation list, and the forms of a distinguished name the
 * registry keys on.
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
        byte[] bytes = pemOrDer(text, "cert", "the CA certificate");
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

    /** The bytes of {@code text} as the X.509 factory reads them: PEM as it is, base64 DER decoded. */
    private static byte[] pemOrDer(String text, String field, String what) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(field + " is " + what + " in PEM (or base64 DER)");
        }
        if (text.contains("-----BEGIN")) {
            return text.getBytes(StandardCharsets.US_ASCII);
        }
        try {
            return Base64.getMimeDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + " is neither PEM nor base64 DER");
        }
    }

    /**
     * One certificate revocation list, PEM ({@code -----BEGIN X509 CRL-----}) or base64 DER.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static X509CRL parseCrl(String text) {
        byte[] bytes = pemOrDer(text, "crl", "the CA's certificate revocation list");
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(bytes));
        } catch (CertificateException | CRLException | RuntimeException e) {
            throw new IllegalArgumentException("crl is not an X.509 certificate revocation list (" + e.getMessage() + ")");
        }
    }

    /** OIDs of the CRL extensions a full CRL may mark critical and this check understands. */
    private static final Set<String> KNOWN_CRITICAL = Set.of(
            "2.5.29.20", // cRLNumber
            "2.5.29.35"); // authorityKeyIdentifier

    /**
     * What keeps {@code crl} from being used as the revocation list of one of {@code cas}, and which
     * of them issued it: a full CRL (not a delta, not one of several partitioned by an issuing
     * distribution point) whose signature one of the CAs' keys verifies.
     */
    public record CrlCheck(X509Certificate issuer, List<String> problems) {
    }

    public static CrlCheck checkCrl(X509CRL crl, List<X509Certificate> cas) {
        List<String> problems = new ArrayList<>();
        Set<String> critical = crl.getCriticalExtensionOIDs();
        if (critical != null) {
            for (String oid : critical) {
                if (!KNOWN_CRITICAL.contains(oid)) {
                    problems.add("it has a critical extension " + oid + " (delta CRLs and partitioned CRLs are not "
                            + "supported; give the CA's full CRL)");
                }
            }
        }
        if (crl.getRevokedCertificates() != null) {
            for (X509CRLEntry entry : crl.getRevokedCertificates()) {
                if (entry.hasUnsupportedCriticalExtension()) {
                    problems.add("entry " + entry.getSerialNumber().toString(16)
                            + " has a critical extension (indirect CRLs are not supported)");
                    break;
                }
            }
        }
        X509Certificate issuer = null;
        for (X509Certificate ca : cas) {
            if (ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal()) && signedBy(crl, ca)) {
                issuer = ca;
                break;
            }
        }
        if (issuer == null) {
            problems.add("none of the tenant's trusted CAs signed it (issuer "
                    + crl.getIssuerX500Principal().getName(X500Principal.RFC2253) + ")");
        }
        return new CrlCheck(issuer, problems);
    }

    /** Whether the key of {@code ca} verifies the signature of {@code crl}. */
    static boolean signedBy(X509CRL crl, X509Certificate ca) {
        try {
            crl.verify(ca.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** SHA-256 of the certificate's DER, hex: which of a DN's CAs a stored CRL belongs to. */
    public static String fingerprint(X509Certificate certificate) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der(certificate)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static X509CRL crlFromDer(byte[] der) {
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(der));
        } catch (CertificateException | CRLException e) {
            throw new IllegalStateException("a stored CRL cannot be read", e);
        }
    }

    static byte[] der(X509CRL crl) {
        try {
            return crl.getEncoded();
        } catch (CRLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The length of the CRL's DER. */
    public static int size(X509CRL crl) {
        return der(crl).length;
    }

    public static String pem(X509CRL crl) {
        return pem("X509 CRL", der(crl));
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
        return pem("CERTIFICATE", der(certificate));
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + label + "-----\n";
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

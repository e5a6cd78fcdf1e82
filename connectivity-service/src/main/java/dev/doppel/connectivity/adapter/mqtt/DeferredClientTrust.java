package dev.doppel.connectivity.adapter.mqtt;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS listener's trust manager for client certificates: it lets every certificate through the
 * handshake and leaves the decision to the CONNECT handler ({@link
 * dev.doppel.connectivity.registry.CertificateLogin}), which validates it against the trusted CAs of
 * the tenant its issuer names, as Eclipse Hono's adapters do.
 *
 * <p>Why not trust the CAs here: they change at runtime, per tenant, on every replica; checked at
 * CONNECT they are read from the registry as they are now, and a refusal is an MQTT CONNACK with a
 * reason and a metric rather than a TLS alert. The handshake still proves that the client holds the
 * certificate's private key (its CertificateVerify), whatever this manager says. A client without
 * a certificate still connects (with a password): the listener requests one, it does not require it.
 *
 * <p>It must never judge a server: {@link #checkServerTrusted} refuses everything.
 */
final class DeferredClientTrust extends X509ExtendedTrustManager {

    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("empty client certificate chain");
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("this trust manager only takes client certificates");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    /**
     * No names in the CertificateRequest: a client then offers whichever certificate it has (a JDK
     * client with a non-empty list offers none that does not match it).
     */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return NO_ISSUERS;
    }
}

package dev.doppel.connectivity.adapter.coap;

import dev.doppel.connectivity.registry.DeviceRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.util.Map;
import javax.crypto.SecretKey;
import org.eclipse.californium.elements.auth.AdditionalInfo;
import org.eclipse.californium.scandium.auth.ApplicationLevelInfoSupplier;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.dtls.PskPublicInformation;
import org.eclipse.californium.scandium.dtls.PskSecretResult;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedPskStore;
import org.eclipse.californium.scandium.util.SecretUtil;
import org.eclipse.californium.scandium.util.ServerNames;
import org.jboss.logging.Logger;

/**
 * DTLS pre-shared keys from the device registry, as Hono's CoAP adapter has them: the client's PSK
 * identity is {@code auth-id@tenant}, the key is the device's {@code psk} credential. The lookup is
 * asynchronous (the handshake continues when the registry answers), and the device it names travels
 * with the DTLS session into every request as {@link #DEVICE}.
 */
final class RegistryPskStore implements AdvancedPskStore, ApplicationLevelInfoSupplier {

    private static final Logger LOG = Logger.getLogger(RegistryPskStore.class);

    /** Key of the authenticated device's thing id in the peer identity's additional info. */
    static final String DEVICE = "doppel-device";

    private final DeviceRegistry registry;
    private final MeterRegistry metrics;
    private volatile HandshakeResultHandler resultHandler;

    RegistryPskStore(DeviceRegistry registry, MeterRegistry metrics) {
        this.registry = registry;
        this.metrics = metrics;
    }

    @Override
    public boolean hasEcdhePskSupported() {
        return true;
    }

    @Override
    public PskSecretResult requestPskSecretResult(ConnectionId cid, ServerNames serverName,
            PskPublicInformation identity, String hmacAlgorithm, SecretKey otherSecret, byte[] seed,
            boolean useExtendedMasterSecret) {
        String name = identity.getPublicInfoAsString();
        int at = name.lastIndexOf('@');
        if (at <= 0 || at == name.length() - 1) {
            count("malformed-identity");
            return new PskSecretResult(cid, identity, null);
        }
        registry.findPsk(name.substring(at + 1), name.substring(0, at)).subscribe().with(entry -> {
            if (entry.isEmpty()) {
                count("unknown-identity");
            }
            resultHandler.apply(entry
                    .map(e -> new PskSecretResult(cid, identity, SecretUtil.create(e.key(), PskSecretResult.ALGORITHM_PSK),
                            e.device().toString()))
                    .orElseGet(() -> new PskSecretResult(cid, identity, null)));
        }, failure -> {
            LOG.warnf("PSK lookup for %s failed: %s", name, failure.getMessage());
            count("registry-unavailable");
            resultHandler.apply(new PskSecretResult(cid, identity, null));
        });
        return null; // answered through the result handler
    }

    @Override
    public PskPublicInformation getIdentity(InetSocketAddress peerAddress, ServerNames virtualHost) {
        return null; // server only: never starts a handshake
    }

    @Override
    public void setResultHandler(HandshakeResultHandler resultHandler) {
        this.resultHandler = resultHandler;
    }

    @Override
    public AdditionalInfo getInfo(java.security.Principal clientIdentity, Object customArgument) {
        return customArgument instanceof String device ? AdditionalInfo.from(Map.of(DEVICE, device))
                : AdditionalInfo.empty();
    }

    private void count(String outcome) {
        metrics.counter("doppel.coap.handshakes", "outcome", outcome).increment();
    }
}

package dev.doppel.connectivity.adapter.coap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doppel.connectivity.config.CoapAdapterConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** The plain (non-DTLS) port is opened only where devices may send without authenticating. */
class CoapPortsTest {

    private static CoapAdapterConfig config(boolean allowUnauthenticated) {
        return new CoapAdapterConfig() {
            public boolean enabled() {
                return true;
            }

            public String host() {
                return "127.0.0.1";
            }

            public int port() {
                return 0;
            }

            public int dtlsPort() {
                return 0;
            }

            public boolean allowUnauthenticated() {
                return allowUnauthenticated;
            }

            public int maxPayloadBytes() {
                return 65536;
            }
        };
    }

    private static CoapAdapter started(boolean allowUnauthenticated) {
        CoapAdapter adapter = new CoapAdapter(config(allowUnauthenticated), null, null, null, null, null, null, null,
                new SimpleMeterRegistry(), null);
        adapter.start(null);
        return adapter;
    }

    @Test
    void byDefaultOnlyTheDtlsPortListens() {
        CoapAdapter adapter = started(false);
        try {
            assertTrue(adapter.securePort() > 0);
            assertEquals(-1, adapter.plainPort(), "the plain port was opened");
            assertTrue(adapter.isListening());
        } finally {
            adapter.stop(null);
        }
    }

    @Test
    void allowingUnauthenticatedDevicesOpensThePlainPort() {
        CoapAdapter adapter = started(true);
        try {
            assertTrue(adapter.plainPort() > 0);
            assertTrue(adapter.securePort() > 0);
        } finally {
            adapter.stop(null);
        }
    }
}

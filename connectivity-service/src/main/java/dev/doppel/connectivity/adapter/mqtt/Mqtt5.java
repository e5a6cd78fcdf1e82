package dev.doppel.connectivity.adapter.mqtt;

import dev.doppel.connectivity.limits.TwinRooms;
import dev.doppel.connectivity.mapping.MappingPool;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.codes.MqttDisconnectReasonCode;
import io.vertx.mqtt.messages.codes.MqttPubAckReasonCode;
import io.vertx.mqtt.messages.codes.MqttSubAckReasonCode;

/**
 * What MQTT 5 clients are told, in MQTT 5's own reason codes: MQTT 3.1.1 has a few CONNACK codes and
 * otherwise only closes the connection, MQTT 5 says why a CONNECT, PUBLISH or SUBSCRIBE was refused
 * (with a reason string), so its clients keep their connection for a refused QoS 1 message.
 */
final class Mqtt5 {

    static final int VERSION = 5;

    private Mqtt5() {
    }

    static boolean speaks5(MqttEndpoint endpoint) {
        return endpoint.protocolVersion() == VERSION;
    }

    /** The CONNACK code for this client: MQTT 3.1.1's as given, or its MQTT 5 counterpart. */
    static MqttConnectReturnCode connack(MqttEndpoint endpoint, MqttConnectReturnCode v311, String reason) {
        if (!speaks5(endpoint)) {
            return v311;
        }
        if ("connection-limit".equals(reason)) {
            return MqttConnectReturnCode.CONNECTION_REFUSED_QUOTA_EXCEEDED;
        }
        if ("throttled".equals(reason) || MqttAdapter.SOURCE_RATE.equals(reason)) {
            return MqttConnectReturnCode.CONNECTION_REFUSED_CONNECTION_RATE_EXCEEDED;
        }
        if ("busy".equals(reason)) {
            return MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_BUSY;
        }
        return switch (v311) {
            case CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD ->
                    MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD;
            case CONNECTION_REFUSED_NOT_AUTHORIZED -> MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED_5;
            case CONNECTION_REFUSED_SERVER_UNAVAILABLE -> MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE_5;
            case CONNECTION_REFUSED_IDENTIFIER_REJECTED ->
                    MqttConnectReturnCode.CONNECTION_REFUSED_CLIENT_IDENTIFIER_NOT_VALID;
            case CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION ->
                    MqttConnectReturnCode.CONNECTION_REFUSED_UNSUPPORTED_PROTOCOL_VERSION;
            default -> MqttConnectReturnCode.CONNECTION_REFUSED_UNSPECIFIED_ERROR;
        };
    }

    /** A reason string property (MQTT 5 only; empty properties for MQTT 3.1.1). */
    static MqttProperties reasonString(MqttEndpoint endpoint, String reason) {
        MqttProperties properties = new MqttProperties();
        if (speaks5(endpoint) && reason != null) {
            properties.add(new MqttProperties.StringProperty(
                    MqttProperties.MqttPropertyType.REASON_STRING.value(), reason));
        }
        return properties;
    }

    /**
     * A reason string for a PUBACK or SUBACK: only if the client did not turn problem information off
     * (its CONNECT's Request Problem Information 0 allows reason strings on CONNACK and DISCONNECT only).
     */
    static MqttProperties problemReason(MqttEndpoint endpoint, String reason) {
        MqttProperties connect = endpoint.connectProperties();
        MqttProperties.MqttProperty<?> requested = connect == null ? null
                : connect.getProperty(MqttProperties.MqttPropertyType.REQUEST_PROBLEM_INFORMATION.value());
        if (requested != null && Integer.valueOf(0).equals(requested.value())) {
            return new MqttProperties();
        }
        return reasonString(endpoint, reason);
    }

    /**
     * The PUBACK code for a refused QoS 1 message, or null when the refusal ends the connection (a
     * packet too large, QoS 2).
     */
    static MqttPubAckReasonCode pubAck(String reason) {
        return switch (reason) {
            case "not-authorized", "not-a-gateway" -> MqttPubAckReasonCode.NOT_AUTHORIZED;
            case "unknown-topic", "invalid-device-id" -> MqttPubAckReasonCode.TOPIC_NAME_INVALID;
            case "rate-limited", MappingPool.BUSY, TwinRooms.TWIN_FULL -> MqttPubAckReasonCode.QUOTA_EXCEEDED;
            case "payload-too-large", "qos-not-supported" -> null;
            // Everything a payload mapping refuses: malformed JSON, content type, a failing JSONata mapping.
            default -> MqttPubAckReasonCode.PAYLOAD_FORMAT_INVALID;
        };
    }

    /** The DISCONNECT code when a refusal ends an MQTT 5 connection. */
    static MqttDisconnectReasonCode disconnect(String reason) {
        return switch (reason) {
            case "payload-too-large" -> MqttDisconnectReasonCode.PACKET_TOO_LARGE;
            case "qos-not-supported", "event-needs-qos1" -> MqttDisconnectReasonCode.QOS_NOT_SUPPORTED;
            case "not-authorized", "not-a-gateway", "device-disabled", "tenant-disabled", "credentials-changed",
                    "certificate-refused" -> MqttDisconnectReasonCode.NOT_AUTHORIZED;
            case "unknown-topic", "invalid-device-id" -> MqttDisconnectReasonCode.TOPIC_NAME_INVALID;
            case "rate-limited" -> MqttDisconnectReasonCode.MESSAGE_RATE_TOO_HIGH;
            case MappingPool.BUSY -> MqttDisconnectReasonCode.SERVER_BUSY;
            case TwinRooms.TWIN_FULL -> MqttDisconnectReasonCode.QUOTA_EXCEEDED;
            default -> MqttDisconnectReasonCode.PAYLOAD_FORMAT_INVALID;
        };
    }

    /** MQTT 3.1.1's SUBACK knows only granted QoS or failure. */
    static MqttQoS v311(MqttSubAckReasonCode code) {
        return switch (code) {
            case GRANTED_QOS0 -> MqttQoS.AT_MOST_ONCE;
            case GRANTED_QOS1 -> MqttQoS.AT_LEAST_ONCE;
            default -> MqttQoS.FAILURE;
        };
    }

    /** An MQTT 5 PUBLISH may carry its content type as a property instead of in Hono's property bag. */
    static String contentType(MqttPublishMessage msg) {
        MqttProperties properties = msg.properties();
        if (properties == null) {
            return null;
        }
        MqttProperties.MqttProperty<?> p = properties.getProperty(MqttProperties.MqttPropertyType.CONTENT_TYPE.value());
        return p == null || !(p.value() instanceof String s) || s.isBlank() ? null : s;
    }
}

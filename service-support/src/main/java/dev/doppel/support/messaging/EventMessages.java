package dev.doppel.support.messaging;

import dev.doppel.contracts.DoppelEvent;
import io.smallrye.reactive.messaging.ce.OutgoingCloudEventMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import java.net.URI;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * The one way an event goes onto Kafka: a CloudEvent in binary mode whose id, type and subject are the
 * event's id, type and thing id, keyed by the thing id, so that each thing's events keep their order
 * on one partition. The source is the channel's {@code cloud-events-source} unless one is given.
 * {@link EventRecords} reads them back.
 */
public final class EventMessages {

    private EventMessages() {
    }

    /** The event as a message, its source the channel's. */
    public static <T extends DoppelEvent> Message<T> of(T event) {
        return of(event, null);
    }

    /**
     * The event as a message, from {@code source} (null: the channel's), with these extra headers. Each
     * message gets headers of its own: the producer makes a record's headers read-only when it sends it.
     */
    public static <T extends DoppelEvent> Message<T> of(T event, String source, Header... headers) {
        var kafka = OutgoingKafkaRecordMetadata.<String>builder().withKey(event.thingId());
        if (headers.length > 0) {
            kafka.withHeaders(new RecordHeaders(headers)); // copied into a list of the record's own
        }
        var cloudEvent = OutgoingCloudEventMetadata.builder().withId(event.eventId()).withType(event.type())
                .withSubject(event.thingId());
        if (source != null) {
            cloudEvent.withSource(URI.create(source));
        }
        return Message.of(event).addMetadata(kafka.build()).addMetadata(cloudEvent.build());
    }
}

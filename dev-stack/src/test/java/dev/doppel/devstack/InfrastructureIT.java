package dev.doppel.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import dev.doppel.contracts.Topics;
import dev.doppel.devstack.testing.KafkaProbe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/** The infrastructure the local run and every integration test stand on is real and keeps data. */
class InfrastructureIT {

    @Test
    void kafkaBrokerCarriesRecordsAndKeepsThemAcrossARestart() throws Exception {
        Path dir = Files.createTempDirectory("kafka-it");
        int port = Ports.free();
        int controller = Ports.free();
        try (KafkaBroker broker = KafkaBroker.start(dir, port, controller, dir.resolve("kafka.log"));
                KafkaProbe probe = new KafkaProbe(broker.bootstrapServers());
                KafkaConsumer<String, byte[]> consumer = probe.subscribe(Topics.DEVICE_TELEMETRY)) {
            probe.sendRaw(Topics.DEVICE_TELEMETRY, "demo:a", "hello".getBytes(StandardCharsets.UTF_8), List.of());
            ConsumerRecord<String, byte[]> r = KafkaProbe.await(consumer, x -> "demo:a".equals(x.key()),
                    Duration.ofSeconds(30));
            assertNotNull(r, "record produced to the real broker was not consumed");
            assertEquals(KafkaBroker.DEFAULT_PARTITIONS, broker.admin().describeTopics(List.of(Topics.TWIN_CHANGES))
                    .allTopicNames().get().get(Topics.TWIN_CHANGES).partitions().size());
        }
        // Same data directory: the broker comes back with its topic and the record.
        try (KafkaBroker broker = KafkaBroker.start(dir, port, controller, dir.resolve("kafka.log"))) {
            try (var admin = broker.admin()) {
                long end = admin.listOffsets(java.util.Map.of(
                        new org.apache.kafka.common.TopicPartition(Topics.DEVICE_TELEMETRY, partitionOf("demo:a")),
                        org.apache.kafka.clients.admin.OffsetSpec.latest())).all().get().values().iterator().next()
                        .offset();
                assertEquals(1, end);
            }
        }
    }

    @Test
    void mongoStandInWithH2KeepsDocumentsAcrossAGracefulRestart() throws Exception {
        Path dir = Files.createTempDirectory("mongo-it");
        Path file = dir.resolve("data.mv");
        int port = Ports.free();
        try (MongoStandIn mongo = MongoStandIn.start(port, file, dir.resolve("mongo.log"));
                MongoClient client = MongoClients.create(mongo.connectionString())) {
            client.getDatabase("d").getCollection("c").insertOne(new Document("_id", "demo:x").append("v", 1));
        }
        try (MongoStandIn mongo = MongoStandIn.start(port, file, dir.resolve("mongo.log"));
                MongoClient client = MongoClients.create(mongo.connectionString())) {
            Document d = client.getDatabase("d").getCollection("c").find(new Document("_id", "demo:x")).first();
            assertNotNull(d, "document written before the restart is gone");
            assertEquals(1, d.getInteger("v"));
        }
    }

    private static int partitionOf(String key) {
        return org.apache.kafka.common.utils.Utils.toPositive(
                org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(StandardCharsets.UTF_8)))
                % KafkaBroker.DEFAULT_PARTITIONS;
    }
}

package dev.doppel.devstack.testing;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import java.util.List;

/**
 * A real MongoDB given to the integration tests ({@link RealInfrastructure#realMongoUrl}). Its driver
 * comes with the service under test (quarkus-mongodb-client), so only those tests load this class.
 */
final class RealMongo {

    private RealMongo() {
    }

    /** Starts the tests from empty databases, as the stand-in does: the server must be one for tests. */
    static void dropDatabases(String url, List<String> databases) {
        try (MongoClient client = MongoClients.create(url)) {
            for (String database : databases) {
                client.getDatabase(database).drop();
            }
        }
    }
}

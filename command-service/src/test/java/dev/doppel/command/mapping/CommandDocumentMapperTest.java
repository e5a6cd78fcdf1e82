package dev.doppel.command.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.doppel.command.model.Command.StatusEntry;
import dev.doppel.contracts.CommandStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandDocumentMapperTest {

    private static final Instant T = Instant.parse("2026-11-22T10:00:00Z");

    @Test
    void aDeliveryReportedAfterTheAnswerIsListedBeforeItWithItsOwnTime() {
        List<StatusEntry> byTime = List.of(new StatusEntry(CommandStatus.QUEUED, T, null),
                new StatusEntry(CommandStatus.SENT, T.plusMillis(1), null),
                new StatusEntry(CommandStatus.SUCCEEDED, T.plusMillis(5), null),
                new StatusEntry(CommandStatus.DELIVERED, T.plusMillis(6), null));
        List<StatusEntry> history = CommandDocumentMapper.inLifecycleOrder(byTime);
        assertEquals(List.of(CommandStatus.QUEUED, CommandStatus.SENT, CommandStatus.DELIVERED, CommandStatus.SUCCEEDED),
                history.stream().map(StatusEntry::status).toList());
        assertEquals(T.plusMillis(6), history.get(2).at());
    }

    @Test
    void stepsInTimeOrderStayAsTheyAre() {
        List<StatusEntry> byTime = List.of(new StatusEntry(CommandStatus.QUEUED, T, null),
                new StatusEntry(CommandStatus.EXPIRED, T.plusSeconds(60), "ttl passed"));
        assertEquals(byTime, CommandDocumentMapper.inLifecycleOrder(byTime));
    }
}

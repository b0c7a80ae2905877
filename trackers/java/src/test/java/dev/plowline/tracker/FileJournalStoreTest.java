package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileJournalStoreTest {
  @TempDir Path dir;

  private static List<String> ids(EventStore store) {
    return store.peek(100).stream().map(e -> e.payload().get("eid")).toList();
  }

  @Test
  void eventsSurviveReopeningInOrder() throws IOException {
    Path file = dir.resolve("events.journal");
    try (FileJournalStore store = FileJournalStore.open(file)) {
      store.add(Map.of("eid", "a", "e", "pv"));
      long b = store.add(Map.of("eid", "b"));
      store.add(Map.of("eid", "c", "ué", "ü\n\"x\""));
      store.remove(List.of(b));
    }
    try (FileJournalStore store = FileJournalStore.open(file)) {
      assertEquals(List.of("a", "c"), ids(store));
      assertEquals("ü\n\"x\"", store.peek(2).get(1).payload().get("ué"));
      long d = store.add(Map.of("eid", "d"));
      assertTrue(d > store.peek(2).get(1).key(), "keys keep growing after a reopen");
    }
  }

  @Test
  void aTornLastLineIsIgnored() throws IOException {
    Path file = dir.resolve("events.journal");
    try (FileJournalStore store = FileJournalStore.open(file)) {
      store.add(Map.of("eid", "a"));
    }
    // The process died in the middle of writing the next event.
    Files.write(file, "A7 {\"eid\":\"b".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
    try (FileJournalStore store = FileJournalStore.open(file)) {
      assertEquals(List.of("a"), ids(store));
      store.add(Map.of("eid", "c"));
    }
    try (FileJournalStore store = FileJournalStore.open(file)) {
      assertEquals(List.of("a", "c"), ids(store));
    }
  }

  @Test
  void writesReachTheFileBeforeAddReturns() throws IOException {
    Path file = dir.resolve("events.journal");
    try (FileJournalStore store = FileJournalStore.open(file, true)) {
      store.add(Map.of("eid", "a"));
      // Not closed: what a killed process leaves behind.
      String text = Files.readString(file);
      assertTrue(text.contains("\"eid\":\"a\""), text);
    }
  }

  @Test
  void compactsOnceDeadLinesDominate() throws IOException {
    Path file = dir.resolve("events.journal");
    try (FileJournalStore store = FileJournalStore.open(file)) {
      for (int i = 0; i < 3000; i++) {
        long key = store.add(Map.of("eid", "e" + i));
        store.remove(List.of(key));
      }
      store.add(Map.of("eid", "kept"));
      assertTrue(Files.size(file) < 100_000, "journal was compacted: " + Files.size(file));
    }
    try (FileJournalStore store = FileJournalStore.open(file)) {
      assertEquals(List.of("kept"), ids(store));
    }
  }

  @Test
  void oneStorePerJournal() throws IOException {
    Path file = dir.resolve("events.journal");
    try (FileJournalStore first = FileJournalStore.open(file)) {
      assertEquals(0, first.size());
      assertThrows(IOException.class, () -> FileJournalStore.open(file));
    }
    FileJournalStore.open(file).close(); // free again once closed
  }
}

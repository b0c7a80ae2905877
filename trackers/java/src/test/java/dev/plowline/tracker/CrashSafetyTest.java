package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that tracks events into a journal and then dies without any shutdown (halt, as a
 * kill -9 would) loses none of the events track() accepted: the next process sends them all.
 */
class CrashSafetyTest {
  @TempDir Path dir;

  /** The child process: tracks {@code args[1]} events into the journal {@code args[0]}, then halts. */
  public static void main(String[] args) throws Exception {
    Transport down = request -> new Transport.Response(503, null);
    Emitter emitter = Emitter.builder("http://collector.invalid").transport(down)
        .retry(RetryPolicy.NONE).batchSize(1_000_000).flushInterval(Duration.ZERO)
        .store(FileJournalStore.open(Path.of(args[0]))).build();
    Tracker tracker = Tracker.builder("ns", "crash", emitter).build();
    int n = Integer.parseInt(args[1]);
    for (int i = 0; i < n; i++) {
      System.out.println(tracker.track(PageView.builder().pageUrl("https://a.example/" + i).build()).get(0));
    }
    System.out.flush();
    Runtime.getRuntime().halt(137); // no close, no flush, no shutdown hooks
  }

  private static String location(Class<?> type) throws Exception {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  @Test
  void aHaltedProcessLosesNoAcceptedEvent() throws Exception {
    Path journal = dir.resolve("events.journal");
    String classpath = location(Tracker.class) + File.pathSeparator + location(CrashSafetyTest.class);
    Process child = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", classpath, CrashSafetyTest.class.getName(), journal.toString(), "500")
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    List<String> accepted;
    try (var out = child.inputReader()) {
      accepted = out.lines().toList();
    }
    assertTrue(child.waitFor(60, TimeUnit.SECONDS));
    assertEquals(137, child.exitValue(), "the child halted");
    assertEquals(500, accepted.size());

    RecordingTransport collector = new RecordingTransport();
    try (Emitter e = Emitter.builder("http://collector.invalid").transport(collector).batchSize(100)
        .flushInterval(Duration.ZERO).store(FileJournalStore.open(journal)).build()) {
      assertEquals(500, e.queued());
      assertTrue(e.flush(Duration.ofSeconds(30)));
    }
    List<String> delivered = collector.events().stream().map(m -> m.get("eid")).toList();
    assertEquals(accepted, delivered, "every accepted event, once, in order");
  }

  @Test
  void manyThreadsTrackingAtOnceLoseNothing() throws Exception {
    RecordingTransport collector = new RecordingTransport();
    Emitter emitter = Emitter.builder("http://collector.invalid").transport(collector).batchSize(25)
        .flushInterval(Duration.ZERO).build();
    Set<String> tracked = java.util.concurrent.ConcurrentHashMap.newKeySet();
    try (Tracker tracker = Tracker.builder("ns", "threads", emitter).build()) {
      Thread[] threads = new Thread[8];
      for (int t = 0; t < threads.length; t++) {
        threads[t] = new Thread(() -> {
          for (int i = 0; i < 500; i++) {
            tracked.addAll(tracker.track(Structured.builder().category("c").action("a" + i).build()));
          }
        });
        threads[t].start();
      }
      for (Thread thread : threads) {
        thread.join();
      }
      assertTrue(tracker.flush(Duration.ofSeconds(30)));
    }
    List<String> delivered = collector.events().stream().map(m -> m.get("eid")).toList();
    assertEquals(4000, tracked.size());
    assertEquals(4000, delivered.size(), "no event sent twice");
    assertEquals(tracked, new HashSet<>(delivered));
  }
}

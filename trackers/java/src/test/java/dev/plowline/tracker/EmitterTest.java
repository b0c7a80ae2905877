package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmitterTest {
  @TempDir Path dir;

  /** Collects every callback. */
  static final class Calls implements EmitterCallback {
    final List<Map<String, String>> delivered = Collections.synchronizedList(new ArrayList<>());
    final List<Failure> failures = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void onSuccess(List<Map<String, String>> payloads) {
      delivered.addAll(payloads);
    }

    @Override
    public void onFailure(Failure failure) {
      failures.add(failure);
    }
  }

  private static RetryPolicy fastRetry(int attempts) {
    return RetryPolicy.builder()
        .maxAttempts(attempts)
        .initialBackoff(Duration.ofMillis(10))
        .maxBackoff(Duration.ofMillis(40))
        .jitter(0)
        .build();
  }

  private static Emitter.Builder emitter(RecordingTransport collector) {
    return Emitter.builder("http://collector.invalid")
        .transport(collector)
        .flushInterval(Duration.ZERO)
        .batchSize(1)
        .retry(fastRetry(3));
  }

  private static Map<String, String> event(String eid) {
    return Map.of("e", "pv", "eid", eid, "p", "srv", "tv", "t");
  }

  @Test
  void only2xxDelivers() {
    RecordingTransport collector = new RecordingTransport().then(new Transport.Response(302, null),
        new Transport.Response(199, null), new Transport.Response(204, null));
    Calls calls = new Calls();
    try (Emitter e = emitter(collector).batchSize(5).callback(calls).build()) {
      e.add(event("a"));
      assertTrue(e.flush(Duration.ofSeconds(5)));
    }
    assertEquals(3, collector.requests().size(), "a 302 and a 1xx were retried");
    assertEquals(1, calls.delivered.size());
    assertTrue(calls.failures.isEmpty());
  }

  @Test
  void eventIdKeptAndStmRestampedAcrossRetries() {
    AtomicLong clock = new AtomicLong(1000);
    RecordingTransport collector = new RecordingTransport()
        .afterEach(() -> clock.addAndGet(5)) // time moves between attempts
        .thenStatus(500, 2);
    try (Emitter e = emitter(collector).batchSize(5).clock(clock::get).build()) {
      e.add(event("id-1"));
      assertTrue(e.flush(Duration.ofSeconds(5)));
    }
    List<Map<String, String>> wire = collector.events();
    assertEquals(3, wire.size());
    assertEquals(List.of("id-1", "id-1", "id-1"), wire.stream().map(m -> m.get("eid")).toList());
    assertEquals(List.of("1000", "1005", "1010"), wire.stream().map(m -> m.get("stm")).toList());
  }

  @Test
  void givesUpOnARejectingStatusAndTellsTheCallback() {
    RecordingTransport collector = new RecordingTransport().thenStatus(422, 1);
    Calls calls = new Calls();
    try (Emitter e = emitter(collector).callback(calls).build()) {
      e.add(event("a"));
      assertTrue(e.flush(Duration.ofSeconds(5)), "nothing left queued");
    }
    assertEquals(1, collector.requests().size());
    assertEquals(1, calls.failures.size());
    Failure f = calls.failures.get(0);
    assertEquals(Failure.Reason.REJECTED, f.reason());
    assertEquals(422, f.status().getAsInt());
    assertFalse(f.willRetry());
  }

  @Test
  void exhaustedRetriesKeepTheEventsForTheNextCycle() {
    RecordingTransport collector = new RecordingTransport()
        .then(new ConnectException("refused"), new ConnectException("refused"));
    Calls calls = new Calls();
    // batchSize 10: only the flushes start send cycles, so the first one is the one that fails.
    try (Emitter e = emitter(collector).batchSize(10).retry(fastRetry(2)).callback(calls).build()) {
      e.add(event("a"));
      assertFalse(e.flush(Duration.ofSeconds(5)));
      assertEquals(1, e.queued());
      assertEquals(Failure.Reason.RETRIES_EXHAUSTED, calls.failures.get(0).reason());
      assertTrue(calls.failures.get(0).willRetry());
      assertTrue(e.flush(Duration.ofSeconds(5)), "the next flush delivers it");
    }
    assertEquals(List.of("a", "a", "a"), collector.events().stream().map(m -> m.get("eid")).toList());
  }

  @Test
  void backoffIsCappedAndHonoursRetryAfter() {
    RecordingTransport collector = new RecordingTransport().then(
        new Transport.Response(503, null), new Transport.Response(503, null),
        new Transport.Response(503, null), new Transport.Response(429, "1"));
    // Uncapped, the third wait would be 6 s: the cap keeps it at 100 ms.
    RetryPolicy policy = RetryPolicy.builder().maxAttempts(6).initialBackoff(Duration.ofMillis(60))
        .multiplier(10).maxBackoff(Duration.ofMillis(100)).jitter(0).build();
    try (Emitter e = emitter(collector).retry(policy).build()) {
      e.add(event("a"));
      assertTrue(e.flush(Duration.ofSeconds(10)));
    }
    List<RecordingTransport.Sent> sent = collector.sent();
    assertEquals(5, sent.size());
    long[] gaps = new long[4];
    for (int i = 0; i < 4; i++) {
      gaps[i] = TimeUnit.NANOSECONDS.toMillis(sent.get(i + 1).atNanos() - sent.get(i).atNanos());
    }
    assertTrue(gaps[0] >= 60, "first wait " + gaps[0]);
    assertTrue(gaps[1] >= 100 && gaps[2] >= 100, "capped waits " + gaps[1] + ", " + gaps[2]);
    assertTrue(gaps[2] < 3000, "the cap holds: " + gaps[2]);
    assertTrue(gaps[3] >= 1000, "Retry-After: 1 waits a second, not " + gaps[3]);
  }

  @Test
  void postBatchesRespectTheByteLimitAndOversizedEventsGoToTheCallback() {
    RecordingTransport collector = new RecordingTransport();
    Calls calls = new Calls();
    String big = "x".repeat(2000);
    try (Emitter e = emitter(collector).batchSize(10).byteLimit(1000).callback(calls).build()) {
      for (int i = 0; i < 6; i++) {
        e.add(Map.of("e", "se", "eid", "e" + i, "se_la", "y".repeat(200)));
      }
      e.add(Map.of("e", "se", "eid", "huge", "se_la", big));
      assertTrue(e.flush(Duration.ofSeconds(5)));
    }
    for (Transport.Request r : collector.requests()) {
      assertTrue(r.body().length <= 1000, "body of " + r.body().length + " bytes");
    }
    assertTrue(collector.requests().size() >= 2, "split into several bodies");
    assertEquals(List.of("e0", "e1", "e2", "e3", "e4", "e5"),
        collector.events().stream().map(m -> m.get("eid")).toList(), "every event once, in order");
    assertEquals(1, calls.failures.size());
    assertEquals(Failure.Reason.OVERSIZED, calls.failures.get(0).reason());
    assertEquals("huge", calls.failures.get(0).payloads().get(0).get("eid"));
    assertFalse(calls.failures.get(0).willRetry());
  }

  @Test
  void aFullQueueDropsTheOldestAndKeepsTheNewest() {
    RecordingTransport collector = new RecordingTransport();
    Calls calls = new Calls();
    try (Emitter e = emitter(collector).batchSize(100).bufferCapacity(3, Emitter.Overflow.DROP_OLDEST)
        .callback(calls).build()) {
      for (String id : List.of("a", "b", "c", "d", "e")) {
        e.add(event(id));
      }
      assertEquals(3, e.queued());
      assertTrue(e.flush(Duration.ofSeconds(5)));
    }
    assertEquals(List.of("c", "d", "e"), collector.events().stream().map(m -> m.get("eid")).toList());
    assertEquals(List.of("a", "b"),
        calls.failures.stream().map(f -> f.payloads().get(0).get("eid")).toList());
    assertTrue(calls.failures.stream().allMatch(f -> f.reason() == Failure.Reason.QUEUE_FULL));
  }

  @Test
  void rejectNewestRefusesLoudly() {
    RecordingTransport collector = new RecordingTransport();
    Calls calls = new Calls();
    try (Emitter e = emitter(collector).batchSize(100).bufferCapacity(2, Emitter.Overflow.REJECT_NEWEST)
        .callback(calls).build()) {
      for (String id : List.of("a", "b", "c")) {
        e.add(event(id));
      }
      assertTrue(e.flush(Duration.ofSeconds(5)));
    }
    assertEquals(List.of("a", "b"), collector.events().stream().map(m -> m.get("eid")).toList());
    assertEquals("c", calls.failures.get(0).payloads().get(0).get("eid"));
    assertEquals(Failure.Reason.QUEUE_FULL, calls.failures.get(0).reason());
  }

  @Test
  void customHeadersAndServerAnonymisation() {
    RecordingTransport collector = new RecordingTransport();
    try (Emitter e = emitter(collector).header("X-Team", "growth").serverAnonymisation(true).build()) {
      e.add(event("a"));
      assertTrue(e.flush(Duration.ofSeconds(5)));
    }
    Map<String, String> headers = collector.requests().get(0).headers();
    assertEquals("growth", headers.get("X-Team"));
    assertEquals("*", headers.get("SP-Anonymous"));
    assertEquals("application/json; charset=utf-8", headers.get("Content-Type"));
  }

  @Test
  void getSendsOneEventPerRequestToTheGetPath() {
    RecordingTransport collector = new RecordingTransport();
    try (Emitter e = emitter(collector).method(Emitter.Method.GET).batchSize(2).getPath("/custom/i").clock(() -> 7).build()) {
      e.add(Map.of("e", "pv", "url", "https://a.example/?q=a b&c=é", "eid", "x"));
      e.add(event("y"));
      assertTrue(e.flush(Duration.ofSeconds(5)));
    }
    List<Transport.Request> requests = collector.requests();
    assertEquals(2, requests.size());
    assertEquals("/custom/i", requests.get(0).uri().getPath());
    assertEquals("GET", requests.get(0).method());
    Map<String, String> first = collector.events().get(0);
    assertEquals("https://a.example/?q=a b&c=é", first.get("url"));
    assertEquals("7", first.get("stm"));
  }

  @Test
  void aFullBatchStartsSendingWithoutAFlush() throws InterruptedException {
    CountDownLatch sent = new CountDownLatch(1);
    Transport collector = request -> {
      sent.countDown();
      return new Transport.Response(200, null);
    };
    try (Emitter e = Emitter.builder("http://collector.invalid").transport(collector)
        .flushInterval(Duration.ZERO).batchSize(2).build()) {
      e.add(event("a"));
      assertFalse(sent.await(200, TimeUnit.MILLISECONDS), "one event of two: nothing sent yet");
      e.add(event("b"));
      assertTrue(sent.await(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void theTimerSendsWhatIsQueued() throws InterruptedException {
    CountDownLatch sent = new CountDownLatch(1);
    Transport collector = request -> {
      sent.countDown();
      return new Transport.Response(200, null);
    };
    try (Emitter e = Emitter.builder("http://collector.invalid").transport(collector)
        .flushInterval(Duration.ofMillis(100)).batchSize(50).build()) {
      e.add(event("a"));
      assertTrue(sent.await(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void closeWithZeroTimeoutSendsNothingAndReportsUnsentEvents() {
    RecordingTransport collector = new RecordingTransport();
    Calls calls = new Calls();
    Emitter e = emitter(collector).batchSize(10).callback(calls).build();
    e.add(event("a"));
    e.close(Duration.ZERO);
    assertEquals(0, collector.requests().size());
    assertEquals(Failure.Reason.CLOSED, calls.failures.get(0).reason());
    e.add(event("b"));
    assertEquals(Failure.Reason.CLOSED, calls.failures.get(1).reason(), "adding after close is reported");
  }

  @Test
  void closeDoesNotHangOnAHangingCollector() {
    CountDownLatch never = new CountDownLatch(1);
    Transport hanging = request -> {
      never.await();
      return new Transport.Response(200, null);
    };
    Emitter e = Emitter.builder("http://collector.invalid").transport(hanging).flushInterval(Duration.ZERO).build();
    e.add(event("a"));
    long start = System.nanoTime();
    e.close(Duration.ofMillis(200));
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(took < 10_000, "close took " + took + " ms (it waits 200 ms, then at most 2 s for the worker)");
  }

  @Test
  void theWorkerIsADaemonThread() {
    try (Emitter e = emitter(new RecordingTransport()).build()) {
      assertEquals(0, e.queued());
      List<Thread> workers = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().equals("plowline-emitter")).toList();
      assertFalse(workers.isEmpty());
      assertTrue(workers.stream().allMatch(Thread::isDaemon));
    }
  }

  @Test
  void aJournalKeepsUndeliveredEventsForTheNextEmitter() throws IOException {
    Path file = dir.resolve("events.journal");
    RecordingTransport down = new RecordingTransport().thenStatus(503, 10);
    try (Emitter e = emitter(down).retry(fastRetry(1)).store(FileJournalStore.open(file)).build()) {
      e.add(event("a"));
      e.add(event("b"));
      assertFalse(e.flush(Duration.ofSeconds(5)));
      e.close(Duration.ZERO);
    }
    RecordingTransport up = new RecordingTransport();
    try (Emitter e = emitter(up).batchSize(10).store(FileJournalStore.open(file)).build()) {
      assertEquals(2, e.queued());
      assertTrue(e.flush(Duration.ofSeconds(5)));
    }
    assertEquals(List.of("a", "b"), up.events().stream().map(m -> m.get("eid")).toList());
  }
}

package dev.plowline.tracker.bench;

import dev.plowline.tracker.Emitter;
import dev.plowline.tracker.FileJournalStore;
import dev.plowline.tracker.Json;
import dev.plowline.tracker.PageView;
import dev.plowline.tracker.SelfDescribingJson;
import dev.plowline.tracker.Tracker;
import dev.plowline.tracker.Transport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntConsumer;

/**
 * The Java tracker's figures, each with a baseline measured in the same run:
 *
 * <ol>
 *   <li>time per track call on the caller's thread (memory store; journal store) vs building the
 *       same payload by hand (a map, the contexts JSON, an id and a clock read);
 *   <li>sustained events/s to a real collector ({@code plowline up}, URL as the first argument)
 *       vs a raw HTTP POST loop in Java sending prebuilt bodies of the same size and batching.
 * </ol>
 *
 * Medians of several rounds; the machine is shared, so ratios matter more than absolutes.
 */
public final class Bench {
  private static final SelfDescribingJson CONTEXT =
      SelfDescribingJson.of(
          "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
          Map.of("id", "f7b4db2b-bab2-49b8-8df1-4676fd799d9b"));
  private static final Transport NOOP = request -> new Transport.Response(200, null);
  private static volatile Object sink;

  private Bench() {}

  private static PageView pageView(int i) {
    return PageView.builder()
        .pageUrl("https://a.example/products/" + i)
        .pageTitle("Product " + i)
        .context(CONTEXT)
        .build();
  }

  /** ns per call: the median of {@code rounds} rounds of {@code n} calls. */
  private static double nsPerCall(int rounds, int n, IntConsumer call) {
    double[] results = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        call.accept(i);
      }
      results[r] = (System.nanoTime() - start) / (double) n;
    }
    Arrays.sort(results);
    return results[rounds / 2];
  }

  private static Map<String, String> byHand(int i) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("e", "pv");
    p.put("url", "https://a.example/products/" + i);
    p.put("page", "Product " + i);
    p.put("eid", UUID.randomUUID().toString());
    p.put("tv", Tracker.TRACKER_VERSION);
    p.put("tna", "bench");
    p.put("aid", "bench");
    p.put("p", "srv");
    p.put("dtm", Long.toString(System.currentTimeMillis()));
    p.put("cx", java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        Json.write(SelfDescribingJson.of("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
            List.of(CONTEXT))).getBytes(StandardCharsets.UTF_8)));
    return p;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /**
   * Rounds alternate baseline, memory store and journal store, so that all three see the same
   * machine load (it is shared); ratios are medians of the per-round ratios.
   */
  private static void trackCall() throws IOException {
    int n = 10_000;
    int rounds = 9;
    Emitter memEmitter = Emitter.builder("http://bench.invalid").transport(NOOP).batchSize(1_000_000)
        .bufferCapacity(2_000_000, Emitter.Overflow.DROP_OLDEST).flushInterval(Duration.ZERO).build();
    Path dir = Files.createTempDirectory("plowline-bench");
    Emitter fileEmitter = Emitter.builder("http://bench.invalid").transport(NOOP).batchSize(1_000_000)
        .bufferCapacity(2_000_000, Emitter.Overflow.DROP_OLDEST).flushInterval(Duration.ZERO)
        .store(FileJournalStore.open(dir.resolve("events.journal"))).build();
    try (Tracker memory = Tracker.builder("bench", "bench", memEmitter).build();
        Tracker journal = Tracker.builder("bench", "bench", fileEmitter).build()) {
      double[] base = new double[rounds];
      double[] mem = new double[rounds];
      double[] file = new double[rounds];
      for (int r = -3; r < rounds; r++) { // three warm-up rounds (JIT) first
        double b = nsPerCall(1, n, i -> sink = byHand(i));
        double m = nsPerCall(1, n, i -> sink = memory.track(pageView(i)));
        memory.flush(Duration.ofSeconds(30));
        double f = nsPerCall(1, n, i -> sink = journal.track(pageView(i)));
        journal.flush(Duration.ofSeconds(30));
        if (r >= 0) {
          base[r] = b;
          mem[r] = m;
          file[r] = f;
        }
      }
      double[] memRatio = new double[rounds];
      double[] fileRatio = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        memRatio[r] = mem[r] / base[r];
        fileRatio[r] = file[r] / base[r];
      }
      System.out.printf(Locale.ROOT, "track call on the caller's thread (page view + 1 entity; medians of %d interleaved rounds x %d calls):%n", rounds, n);
      System.out.printf(Locale.ROOT, "  baseline (payload built by hand)  %8.0f ns/event%n", median(base));
      System.out.printf(Locale.ROOT, "  tracker, memory store             %8.0f ns/event  = %.2fx baseline%n", median(mem), median(memRatio));
      System.out.printf(Locale.ROOT, "  tracker, journal store            %8.0f ns/event  = %.2fx baseline%n", median(file), median(fileRatio));
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  private static final int BATCH = 50;

  /** Non-2xx answers seen (the collector may push back with 503 and Retry-After). */
  private static final java.util.concurrent.atomic.AtomicInteger PUSHBACK = new java.util.concurrent.atomic.AtomicInteger();

  private static double trackerEventsPerSecond(String collector, int events) {
    Emitter emitter = Emitter.builder(collector).batchSize(BATCH).flushInterval(Duration.ZERO)
        .bufferCapacity(events + 1, Emitter.Overflow.DROP_OLDEST)
        .callback(new dev.plowline.tracker.EmitterCallback() {
          @Override
          public void onFailure(dev.plowline.tracker.Failure failure) {
            PUSHBACK.incrementAndGet();
            if (!failure.willRetry()) {
              throw new IllegalStateException("events lost: " + failure.message());
            }
          }
        })
        .build();
    try (Tracker tracker = Tracker.builder("bench", "bench-tracker", emitter).build()) {
      long start = System.nanoTime();
      for (int i = 0; i < events; i++) {
        tracker.track(pageView(i));
      }
      long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      // A flush is one send cycle; one that ran out of attempts leaves events for the next.
      while (!tracker.flush(Duration.ofSeconds(60))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the collector did not take every event in 3 minutes");
        }
      }
      return events / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static double rawEventsPerSecond(String collector, int events) throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    StringBuilder body = new StringBuilder("{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[");
    for (int i = 0; i < BATCH; i++) {
      Map<String, String> p = byHand(i);
      p.put("stm", Long.toString(System.currentTimeMillis()));
      body.append(i == 0 ? "" : ",").append(Json.write(p));
    }
    byte[] bytes = body.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    URI uri = URI.create(collector + "/com.snowplowanalytics.snowplow/tp2");
    long start = System.nanoTime();
    for (int sent = 0; sent < events; ) {
      HttpResponse<Void> r = client.send(HttpRequest.newBuilder(uri)
          .header("Content-Type", "application/json; charset=utf-8")
          .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.discarding());
      if (r.statusCode() == 200) {
        sent += BATCH;
      } else if (r.statusCode() == 503 || r.statusCode() == 429) {
        PUSHBACK.incrementAndGet(); // pushed back: wait as asked, send the same body again
        Thread.sleep(r.headers().firstValue("Retry-After").map(v -> Long.parseLong(v.trim()) * 1000).orElse(100L));
      } else {
        throw new IllegalStateException("collector answered " + r.statusCode());
      }
    }
    return events / ((System.nanoTime() - start) / 1e9);
  }

  private static void throughput(String collector) throws IOException, InterruptedException {
    int events = 10_000;
    trackerEventsPerSecond(collector, 1_000); // warm-up
    rawEventsPerSecond(collector, 1_000);
    List<double[]> pairs = new ArrayList<>();
    for (int r = 0; r < 3; r++) {
      pairs.add(new double[] {rawEventsPerSecond(collector, events), trackerEventsPerSecond(collector, events)});
    }
    double[] raw = pairs.stream().mapToDouble(p -> p[0]).sorted().toArray();
    double[] tracked = pairs.stream().mapToDouble(p -> p[1]).sorted().toArray();
    System.out.printf(Locale.ROOT, "sustained delivery to plowline up (POST, %d events/request, median of 3 x %d events):%n", BATCH, events);
    System.out.printf(Locale.ROOT, "  baseline (raw HTTP POST loop)   %8.0f events/s%n", raw[1]);
    System.out.printf(Locale.ROOT, "  tracker (track + flush)         %8.0f events/s  = %.2fx baseline%n", tracked[1], tracked[1] / raw[1]);
    System.out.printf(Locale.ROOT, "  (collector push-backs seen in all rounds: %d)%n", PUSHBACK.get());
  }

  public static void main(String[] args) throws Exception {
    trackCall();
    if (args.length > 0) {
      throughput(args[0]);
    } else {
      System.out.println("sustained delivery: skipped (no collector URL given)");
    }
  }
}

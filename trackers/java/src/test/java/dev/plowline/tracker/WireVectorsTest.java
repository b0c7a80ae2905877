package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Every tracker-call vector in spec/vectors/tracker, read at test time: the tracker is called as
 * the vector says and the wire parameters it sends are compared with the vector's expectations.
 */
class WireVectorsTest {
  static Path vectorsDir() {
    String spec = System.getProperty("plowline.spec", "../../spec");
    return Path.of(spec, "vectors", "tracker");
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> vectors() throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Map<String, Object>> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(vectorsDir())) {
      for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
          out.add((Map<String, Object>) yaml.load(reader));
        }
      }
    }
    return out;
  }

  @Test
  void theVectorsAreThere() throws IOException {
    // A wrong path must fail loudly, not run zero vectors.
    assertTrue(vectors().size() >= 30, "expected the tracker vectors in " + vectorsDir());
  }

  @TestFactory
  Stream<DynamicTest> everyTrackerVector() throws IOException {
    return vectors().stream()
        .map(v -> DynamicTest.dynamicTest(String.valueOf(v.get("id")), () -> check(v)));
  }

  @SuppressWarnings("unchecked")
  private static void check(Map<String, Object> vector) {
    assertEquals("tracker_call", vector.get("kind"));
    Map<String, Object> settings = (Map<String, Object>) vector.get("tracker");
    long clock = ((Number) vector.get("clock_ms")).longValue();
    ArrayDeque<String> ids = new ArrayDeque<>();
    if (vector.get("event_ids") instanceof List<?> list) {
      list.forEach(id -> ids.add((String) id));
    } else {
      ids.add((String) vector.get("event_id"));
    }
    List<String> expectedIds = List.copyOf(ids);
    RecordingTransport collector = new RecordingTransport();
    Emitter emitter = Emitter.builder("http://collector.invalid")
        .method(Emitter.Method.valueOf((String) vector.get("method")))
        .batchSize(50)
        .flushInterval(Duration.ZERO)
        .transport(collector)
        .clock(() -> clock)
        .build();
    Tracker.Builder builder = Tracker.builder((String) settings.get("namespace"), (String) settings.get("app_id"), emitter)
        .base64(!Boolean.FALSE.equals(settings.get("encode_base64")))
        .subject(NeutralEvents.subject(vector.get("subject")))
        .clock(() -> clock)
        .eventIds(ids::removeFirst);
    if (settings.get("platform") != null) {
      builder.platform((String) settings.get("platform"));
    }
    try (Tracker tracker = builder.build()) {
      List<String> returned = tracker.track(NeutralEvents.event(vector.get("event")));
      assertEquals(expectedIds, returned, "track() returns the wire event ids");
      assertTrue(tracker.flush(Duration.ofSeconds(10)), "flush delivers");
    }
    Map<String, Object> expect = (Map<String, Object>) vector.get("expect");
    List<Map<String, Object>> expected = expect.containsKey("events")
        ? (List<Map<String, Object>>) expect.get("events")
        : List.of(expect);
    List<Map<String, String>> wire = collector.events();
    assertEquals(expected.size(), wire.size(), "wire events");
    for (int i = 0; i < expected.size(); i++) {
      compare(expected.get(i), wire.get(i), "event " + i);
    }
  }

  @SuppressWarnings("unchecked")
  private static void compare(Map<String, Object> expect, Map<String, String> actual, String where) {
    Map<String, Object> params = (Map<String, Object>) expect.getOrDefault("params", Map.of());
    params.forEach((key, value) -> assertEquals(String.valueOf(value), actual.get(key), where + ": " + key));
    Map<String, Object> decoded = (Map<String, Object>) expect.getOrDefault("decoded", Map.of());
    decoded.forEach((key, value) -> {
      String raw = actual.get(key);
      assertTrue(raw != null, where + ": " + key + " missing");
      String json = key.equals("cx") || key.equals("ue_px")
          ? new String(Base64.getUrlDecoder().decode(raw), StandardCharsets.UTF_8)
          : raw;
      assertEquals(normalise(value), normalise(Json.parse(json)), where + ": " + key + " decoded");
    });
    for (Object key : (List<Object>) expect.getOrDefault("present", List.of())) {
      String value = actual.get((String) key);
      assertTrue(value != null && !value.isEmpty(), where + ": " + key + " present");
    }
    for (Object key : (List<Object>) expect.getOrDefault("absent", List.of())) {
      assertFalse(actual.containsKey((String) key), where + ": " + key + " absent");
    }
  }

  /** JSON meaning: numbers compared by value (YAML Integer vs parsed Long, 1.5 vs 1.50). */
  static Object normalise(Object value) {
    if (value instanceof Number n) {
      return new BigDecimal(n.toString()).stripTrailingZeros();
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), normalise(v)));
      return out;
    }
    if (value instanceof List<?> list) {
      return list.stream().map(WireVectorsTest::normalise).toList();
    }
    return value;
  }
}

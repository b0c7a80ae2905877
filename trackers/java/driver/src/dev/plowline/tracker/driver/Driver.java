package dev.plowline.tracker.driver;

import dev.plowline.tracker.Emitter;
import dev.plowline.tracker.EventStore;
import dev.plowline.tracker.FileJournalStore;
import dev.plowline.tracker.InvalidEventException;
import dev.plowline.tracker.Json;
import dev.plowline.tracker.NeutralEvents;
import dev.plowline.tracker.RetryPolicy;
import dev.plowline.tracker.Tracker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Conformance driver for the Java tracker, tracker driver protocol v1 ({@code
 * spec/driver/README.md}): one JSON request per line on stdin, one reply per line on stdout. A
 * dispatch table from command to a function calling the tracker's API; no test logic.
 */
public final class Driver {
  private static final int PROTOCOL = 1;
  private static final long DEFAULT_RESET_TIMEOUT_MS = 1000;
  private static final long DEFAULT_FLUSH_TIMEOUT_MS = 30_000;

  static final List<String> CAPABILITIES =
      List.of(
          "get", "post", "base64", "custom-paths", "request-timeout", "batching-count",
          "batching-bytes", "retry", "retry-after", "persistence", "injected-clock",
          "injected-event-id", "subject", "subject-per-event", "contexts", "true-timestamp",
          "event-page-view", "event-page-ping", "event-structured", "event-self-describing",
          "event-screen-view", "event-screen-view-legacy", "event-link-click",
          "event-submit-form", "event-change-form", "event-focus-form", "event-site-search",
          "event-timing", "event-ecommerce-transaction", "event-add-to-cart",
          "event-remove-from-cart");

  /** A reply kind: the driver cannot do this. */
  static final class Skip extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String capability;

    Skip(String reason, String capability) {
      super(reason);
      this.capability = capability;
    }
  }

  /** A malformed or out-of-order request. */
  static final class ProtocolError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProtocolError(String message) {
      super(message);
    }
  }

  /** The injected clock: fixed once a clock_ms was given, the real clock until then. */
  static final class Clock {
    private volatile Long fixed;

    long now() {
      Long f = fixed;
      return f == null ? System.currentTimeMillis() : f;
    }
  }

  /** The injected ids: those queued by a track request, then seeded ones, then random ones. */
  static final class Ids {
    private final Long seed;
    private final ArrayDeque<String> queued = new ArrayDeque<>();
    private long index;

    Ids(Long seed) {
      this.seed = seed;
    }

    /** Ids for the next wire events of one track call. */
    synchronized void queue(List<String> given) {
      queued.addAll(given);
    }

    synchronized void clearQueued() {
      queued.clear();
    }

    synchronized String next() {
      if (!queued.isEmpty()) {
        return queued.removeFirst();
      }
      if (seed == null) {
        return UUID.randomUUID().toString();
      }
      return String.format(Locale.ROOT, "%08x-0000-4000-8000-%012x", seed, index++);
    }
  }

  private Tracker tracker;
  private Clock clock = new Clock();
  private Ids ids = new Ids(null);
  private boolean stopping;
  private final Mutant mutant = Mutant.fromEnvironment();

  Map<String, Object> hello(Map<String, Object> req) {
    keys(req, Set.of("protocol"));
    if (!Long.valueOf(PROTOCOL).equals(req.get("protocol"))) {
      throw new ProtocolError("this driver speaks protocol " + PROTOCOL + ", not " + req.get("protocol"));
    }
    Map<String, Object> impl = new LinkedHashMap<>();
    impl.put("name", "plowline-tracker-java");
    impl.put("version", Tracker.VERSION);
    impl.put("language", "java");
    impl.put("tracker_version", Tracker.TRACKER_VERSION);
    Map<String, Object> reply = new LinkedHashMap<>();
    reply.put("protocol", PROTOCOL);
    reply.put("implementation", impl);
    reply.put("capabilities", CAPABILITIES);
    return reply;
  }

  Map<String, Object> configure(Map<String, Object> req) throws IOException {
    keys(req, Set.of("endpoint", "method", "tracker", "subject", "clock_ms", "event_id_seed",
        "batching", "retry", "request_timeout_ms", "persistence", "paths"));
    discard(DEFAULT_RESET_TIMEOUT_MS);
    Map<String, Object> settings = object(req, "tracker");
    Map<String, Object> batching = object(req, "batching");
    Map<String, Object> paths = object(req, "paths");
    Map<String, Object> persistence = object(req, "persistence");
    clock = new Clock();
    clock.fixed = integer(req, "clock_ms");
    ids = new Ids(integer(req, "event_id_seed"));
    Clock c = clock;
    String method = string(req, "method");
    if (!"GET".equals(method) && !"POST".equals(method)) {
      throw new InvalidEventException("method must be GET or POST, got " + method);
    }
    Emitter.Builder emitter = Emitter.builder(string(req, "endpoint"))
        .method(Emitter.Method.valueOf(method))
        .batchSize(intOr(batching, "count", 1))
        .retry(retry(object(req, "retry")))
        .flushInterval(Duration.ZERO) // traffic only on a full batch or a flush
        .closeTimeout(Duration.ZERO)
        .clock(c::now);
    if (batching.containsKey("bytes") && mutant.applies("batching.bytes")) {
      emitter.byteLimit(intOr(batching, "bytes", 0));
    }
    Duration requestTimeout = Duration.ofMillis(longOr(req, "request_timeout_ms", 10_000));
    emitter.requestTimeout(requestTimeout);
    if (paths.containsKey("get")) {
      emitter.getPath(string(paths, "get"));
    }
    if (paths.containsKey("post")) {
      emitter.postPath(string(paths, "post"));
    }
    EventStore store = null;
    if (persistence.containsKey("path") && mutant.applies("persistence")) {
      store = FileJournalStore.open(Path.of(string(persistence, "path")));
      emitter.store(store);
    }
    mutant.adjust(emitter, requestTimeout);
    Emitter built;
    try {
      built = emitter.build();
    } catch (RuntimeException e) {
      if (store != null) {
        store.close();
      }
      throw e;
    }
    try {
      Tracker.Builder t = Tracker.builder(string(settings, "namespace"), string(settings, "app_id"), built)
          .base64(!Boolean.FALSE.equals(settings.get("encode_base64")))
          .subject(NeutralEvents.subject(req.get("subject")))
          .clock(c::now)
          .eventIds(ids::next);
      if (settings.containsKey("platform")) {
        t.platform(string(settings, "platform"));
      }
      tracker = t.build();
    } catch (RuntimeException e) {
      built.close(Duration.ZERO);
      throw e;
    }
    return Map.of();
  }

  /**
   * The retry settings: the request's values over the tracker's defaults, whose give-up rule is
   * Snowplow's (400, 401, 403, 410, 422; {@code spec/delivery/rules.yaml}).
   */
  private RetryPolicy retry(Map<String, Object> spec) {
    RetryPolicy d = RetryPolicy.DEFAULT;
    RetryPolicy.Builder b = RetryPolicy.builder()
        .maxAttempts(intOr(spec, "max_attempts", d.maxAttempts()))
        .initialBackoff(Duration.ofMillis(longOr(spec, "initial_backoff_ms", d.initialBackoff().toMillis())))
        .maxBackoff(Duration.ofMillis(longOr(spec, "max_backoff_ms", d.maxBackoff().toMillis())))
        .multiplier(spec.containsKey("multiplier") ? number(spec, "multiplier") : d.multiplier())
        .jitter(Boolean.FALSE.equals(spec.get("jitter")) ? 0 : d.jitter())
        .honourRetryAfter(!Boolean.FALSE.equals(spec.getOrDefault("honour_retry_after", d.honourRetryAfter())));
    mutant.adjust(b);
    return b.build();
  }

  Map<String, Object> track(Map<String, Object> req) {
    keys(req, Set.of("event", "clock_ms", "event_id", "event_ids", "subject"));
    if (tracker == null) {
      throw new ProtocolError("track before configure");
    }
    Map<String, Object> spec = object(req, "event");
    Object type = spec.get("type");
    if (type instanceof String kind && !NeutralEvents.TYPES.contains(kind)) {
      throw new Skip("event type '" + kind + "' is not supported", "event-" + kind.replace('_', '-'));
    }
    var event = NeutralEvents.event(spec);
    var subject = NeutralEvents.subject(req.get("subject"));
    if (req.containsKey("clock_ms")) {
      clock.fixed = integer(req, "clock_ms");
    }
    List<String> given = new ArrayList<>();
    if (req.get("event_ids") instanceof List<?> list) {
      list.forEach(id -> given.add(String.valueOf(id)));
    } else if (req.containsKey("event_id")) {
      given.add(string(req, "event_id"));
    }
    ids.queue(given);
    try {
      return Map.of("event_ids", tracker.track(event, subject));
    } finally {
      ids.clearQueued(); // ids meant for this call never leak into the next
    }
  }

  Map<String, Object> flush(Map<String, Object> req) {
    keys(req, Set.of("timeout_ms"));
    if (tracker == null) {
      throw new ProtocolError("flush before configure");
    }
    long timeout = longOr(req, "timeout_ms", DEFAULT_FLUSH_TIMEOUT_MS);
    return Map.of("delivered", tracker.flush(Duration.ofMillis(timeout)));
  }

  private void discard(long timeoutMs) {
    Tracker old = tracker;
    tracker = null;
    if (old != null) {
      old.close(Duration.ofMillis(timeoutMs));
    }
  }

  Map<String, Object> reset(Map<String, Object> req) {
    keys(req, Set.of("timeout_ms"));
    discard(longOr(req, "timeout_ms", DEFAULT_RESET_TIMEOUT_MS));
    return Map.of();
  }

  Map<String, Object> stop(Map<String, Object> req) {
    Map<String, Object> reply = reset(req);
    stopping = true;
    return reply;
  }

  /** One reply for one request line; every failure becomes an errored reply. */
  Map<String, Object> answer(String line) {
    Object parsed;
    try {
      parsed = Json.parse(line);
    } catch (IllegalArgumentException e) {
      return errored(null, "request is not JSON: " + e.getMessage(), "protocol", null);
    }
    if (!(parsed instanceof Map<?, ?> raw) || !(raw.get("seq") instanceof Long seq) || seq < 0) {
      return errored(null, "request must be an object with an integer seq", "protocol", null);
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> req = (Map<String, Object>) raw;
    try {
      Map<String, Object> result =
          switch (String.valueOf(req.get("cmd"))) {
            case "hello" -> hello(req);
            case "configure" -> configure(req);
            case "track" -> track(req);
            case "flush" -> flush(req);
            case "reset" -> reset(req);
            case "stop" -> stop(req);
            default -> throw new ProtocolError("unknown command '" + req.get("cmd") + "'");
          };
      Map<String, Object> reply = new LinkedHashMap<>();
      reply.put("seq", seq);
      reply.put("status", "ok");
      reply.putAll(result);
      return reply;
    } catch (Skip s) {
      Map<String, Object> reply = new LinkedHashMap<>();
      reply.put("seq", seq);
      reply.put("status", "skipped");
      reply.put("reason", s.getMessage());
      if (s.capability != null) {
        reply.put("capability", s.capability);
      }
      return reply;
    } catch (ProtocolError | ClassCastException e) {
      return errored(seq, e.getMessage(), "protocol", null);
    } catch (IllegalArgumentException e) { // InvalidEventException and refused settings
      return errored(seq, e.getMessage(), "invalid_argument", null);
    } catch (IOException | RuntimeException e) {
      StringWriter trace = new StringWriter();
      e.printStackTrace(new PrintWriter(trace));
      return errored(seq, e.getClass().getSimpleName() + ": " + e.getMessage(), "internal", trace.toString());
    }
  }

  private static Map<String, Object> errored(Long seq, String message, String kind, String details) {
    Map<String, Object> reply = new LinkedHashMap<>();
    reply.put("seq", seq);
    reply.put("status", "errored");
    reply.put("message", message == null ? "" : message);
    reply.put("error_type", kind);
    if (details != null) {
      reply.put("details", details);
    }
    return reply;
  }

  // -- request helpers ----------------------------------------------------------------------

  private static void keys(Map<String, Object> req, Set<String> allowed) {
    for (String key : req.keySet()) {
      if (!allowed.contains(key) && !key.equals("cmd") && !key.equals("seq")) {
        throw new ProtocolError("unknown key '" + key + "'");
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> object(Map<String, Object> req, String key) {
    Object value = req.get(key);
    if (value == null) {
      return Map.of();
    }
    if (!(value instanceof Map<?, ?>)) {
      throw new ProtocolError(key + " must be an object");
    }
    return (Map<String, Object>) value;
  }

  private static String string(Map<String, Object> req, String key) {
    Object value = req.get(key);
    if (value != null && !(value instanceof String)) {
      throw new ProtocolError(key + " must be a string");
    }
    return (String) value;
  }

  private static Long integer(Map<String, Object> req, String key) {
    Object value = req.get(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Long l) || l < 0) {
      throw new ProtocolError(key + " must be a non-negative integer");
    }
    return l;
  }

  private static long longOr(Map<String, Object> req, String key, long fallback) {
    Long value = integer(req, key);
    return value == null ? fallback : value;
  }

  private static int intOr(Map<String, Object> req, String key, int fallback) {
    return Math.toIntExact(longOr(req, key, fallback));
  }

  private static double number(Map<String, Object> req, String key) {
    if (!(req.get(key) instanceof Number n)) {
      throw new ProtocolError(key + " must be a number");
    }
    return n.doubleValue();
  }

  /** Reads stdin until stop or end of input. */
  int run() throws IOException {
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        out.print(Json.write(answer(line)) + "\n");
        out.flush();
        if (stopping) {
          break;
        }
      }
    } finally {
      discard(0); // stdin closed without stop: send nothing more
    }
    return 0;
  }

  public static void main(String[] args) throws IOException {
    // Logs go to stderr only (java.util.logging's default handler); stdout carries replies.
    System.exit(new Driver().run());
  }
}

package dev.plowline.tracker.driver;

import dev.plowline.tracker.Emitter;
import dev.plowline.tracker.Json;
import dev.plowline.tracker.JdkHttpTransport;
import dev.plowline.tracker.RetryPolicy;
import dev.plowline.tracker.Transport;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test-only: a deliberately planted bug, chosen by {@code PLOWLINE_MUTANT}, for the mutation
 * session ({@code trackers/java/mutants/mutants.yaml}). Each one goes through the tracker's
 * public extension points (the {@link Transport} and the {@link RetryPolicy}), so the library
 * itself knows nothing about mutants. Without the variable this does nothing.
 */
enum Mutant {
  NONE,
  /** One attempt per request whatever the policy says. */
  NO_RETRY,
  /** 400 is retried like a 5xx. */
  RETRY_ON_400,
  /** Retry-After is ignored. */
  RETRY_AFTER_IGNORED,
  /** No stm on the wire. */
  STM_MISSING,
  /** The events of each POST go out in reverse order. */
  BATCH_REVERSED,
  /** POST bodies labelled text/plain. */
  CONTENT_TYPE_TEXT_PLAIN,
  /** GET requests go to /e instead of /i. */
  GET_PATH_WRONG,
  /** A retried event gets a new event id (a retry looks like a new event). */
  EID_REGENERATED_ON_RETRY,
  /** The configured POST byte limit is never applied (the 256 kB default stays). */
  BYTE_LIMIT_IGNORED,
  /** The persistence setting is accepted and silently not used. */
  STORE_IGNORED;

  /** Whether the driver applies this configure setting (a mutant may drop one). */
  boolean applies(String setting) {
    return switch (this) {
      case BYTE_LIMIT_IGNORED -> !setting.equals("batching.bytes");
      case STORE_IGNORED -> !setting.equals("persistence");
      default -> true;
    };
  }

  static Mutant fromEnvironment() {
    String name = System.getenv("PLOWLINE_MUTANT");
    if (name == null || name.isEmpty()) {
      return NONE;
    }
    return valueOf(name.replaceFirst("^java-", "").replace('-', '_').toUpperCase(java.util.Locale.ROOT));
  }

  void adjust(RetryPolicy.Builder retry) {
    switch (this) {
      case NO_RETRY -> retry.maxAttempts(1);
      case RETRY_ON_400 -> retry.retryStatus(400, true);
      case RETRY_AFTER_IGNORED -> retry.honourRetryAfter(false);
      default -> {}
    }
  }

  void adjust(Emitter.Builder emitter, Duration requestTimeout) {
    UnaryOperator<Transport.Request> change =
        switch (this) {
          case STM_MISSING -> Mutant::withoutStm;
          case BATCH_REVERSED -> r -> body(r, data -> Collections.reverse(data));
          case CONTENT_TYPE_TEXT_PLAIN -> r -> header(r, "Content-Type", "text/plain; charset=utf-8");
          case GET_PATH_WRONG -> r -> new Transport.Request(r.method(),
              URI.create(r.uri().toString().replaceFirst("/i\\?", "/e?")), r.headers(), r.body());
          case EID_REGENERATED_ON_RETRY -> new FreshIdsOnRetry();
          default -> null;
        };
    if (change != null) {
      Transport real = new JdkHttpTransport(requestTimeout);
      emitter.transport(request -> real.send(change.apply(request)));
    }
  }

  private static final Pattern STM_QUERY = Pattern.compile("&?stm=[0-9]+");
  private static final Pattern EID_QUERY = Pattern.compile("eid=[0-9a-f-]{36}");

  private static Transport.Request withoutStm(Transport.Request r) {
    if (r.body() == null) {
      return new Transport.Request(r.method(), URI.create(STM_QUERY.matcher(r.uri().toString()).replaceAll("")),
          r.headers(), null);
    }
    return body(r, data -> data.forEach(event -> event.remove("stm")));
  }

  /** Replaces each event id already seen in an earlier request (so only retries change). */
  private static final class FreshIdsOnRetry implements UnaryOperator<Transport.Request> {
    private final java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private String fresh(String eid) {
      return seen.add(eid) ? eid : UUID.randomUUID().toString();
    }

    @Override
    public Transport.Request apply(Transport.Request r) {
      if (r.body() == null) {
        Matcher m = EID_QUERY.matcher(r.uri().toString());
        StringBuilder out = new StringBuilder();
        while (m.find()) {
          m.appendReplacement(out, "eid=" + fresh(m.group().substring(4)));
        }
        m.appendTail(out);
        return new Transport.Request(r.method(), URI.create(out.toString()), r.headers(), null);
      }
      return body(r, data -> data.forEach(event -> event.put("eid", fresh((String) event.get("eid")))));
    }
  }

  private static Transport.Request header(Transport.Request r, String name, String value) {
    Map<String, String> headers = new LinkedHashMap<>(r.headers());
    headers.put(name, value);
    return new Transport.Request(r.method(), r.uri(), headers, r.body());
  }

  @SuppressWarnings("unchecked")
  private static Transport.Request body(
      Transport.Request r, java.util.function.Consumer<List<Map<String, Object>>> edit) {
    if (r.body() == null) {
      return r;
    }
    Map<String, Object> envelope =
        (Map<String, Object>) Json.parse(new String(r.body(), StandardCharsets.UTF_8));
    List<Map<String, Object>> data = new ArrayList<>((List<Map<String, Object>>) envelope.get("data"));
    edit.accept(data);
    envelope.put("data", data);
    return new Transport.Request(r.method(), r.uri(), r.headers(),
        Json.write(envelope).getBytes(StandardCharsets.UTF_8));
  }
}

package dev.plowline.tracker;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A fake collector: records every request and answers from a script (then 200). */
final class RecordingTransport implements Transport {
  /** A request as it arrived, and when (System.nanoTime()). */
  record Sent(Transport.Request request, long atNanos) {}

  private final List<Sent> sent = new ArrayList<>();
  private final ArrayDeque<Object> script = new ArrayDeque<>();
  private Runnable afterEach = () -> {};

  /** Runs after every request is recorded (e.g. to move a clock). */
  synchronized RecordingTransport afterEach(Runnable action) {
    afterEach = action;
    return this;
  }

  /** The next answers, in order: a Response, or an IOException to throw. */
  synchronized RecordingTransport then(Object... answers) {
    script.addAll(List.of(answers));
    return this;
  }

  synchronized RecordingTransport thenStatus(int status, int times) {
    for (int i = 0; i < times; i++) {
      script.add(new Response(status, null));
    }
    return this;
  }

  @Override
  public synchronized Response send(Request request) throws IOException {
    sent.add(new Sent(request, System.nanoTime()));
    afterEach.run();
    Object next = script.isEmpty() ? new Response(200, null) : script.removeFirst();
    if (next instanceof IOException e) {
      throw e;
    }
    return (Response) next;
  }

  synchronized List<Sent> sent() {
    return List.copyOf(sent);
  }

  synchronized List<Request> requests() {
    return sent.stream().map(Sent::request).toList();
  }

  /** Every wire event of every request, in order (GET querystrings and POST bodies decoded). */
  synchronized List<Map<String, String>> events() {
    List<Map<String, String>> out = new ArrayList<>();
    for (Sent s : sent) {
      out.addAll(events(s.request()));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, String>> events(Request request) {
    if (request.body() == null) {
      Map<String, String> params = new LinkedHashMap<>();
      String query = request.uri().getRawQuery();
      for (String pair : query.split("&", -1)) {
        int eq = pair.indexOf('=');
        params.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
      return List.of(params);
    }
    Map<String, Object> body =
        (Map<String, Object>) Json.parse(new String(request.body(), StandardCharsets.UTF_8));
    List<Map<String, String>> out = new ArrayList<>();
    for (Object item : (List<Object>) body.get("data")) {
      out.add((Map<String, String>) item);
    }
    return out;
  }
}

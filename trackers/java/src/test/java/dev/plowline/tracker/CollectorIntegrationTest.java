package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Through a real pipeline: events sent to {@code plowline up} (collector, enrich, store; started
 * by ci.sh, URL in the {@code plowline.collector} property) come out good, with our ids. Under
 * CI=true a missing collector fails the test instead of skipping it.
 */
@Tag("integration")
class CollectorIntegrationTest {
  private static String collector;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void needsACollector() {
    collector = System.getProperty("plowline.collector", "");
    if (collector.isBlank()) {
      if ("true".equals(System.getenv("CI"))) {
        fail("CI=true but no collector: run through trackers/java/ci.sh (-Dplowline.collector=URL)");
      }
      Assumptions.abort("no collector given (-Dplowline.collector=URL); ci.sh starts one");
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> micro(String what) throws IOException, InterruptedException {
    HttpResponse<String> response = HTTP.send(
        HttpRequest.newBuilder(URI.create(collector + "/micro/" + what)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), what);
    return (List<Map<String, Object>>) Json.parse(response.body());
  }

  /** The enriched events of one app id, once {@code count} of them arrived (or fails at 120 s). */
  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> goodEvents(String appId, int count) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    List<Map<String, Object>> mine = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      mine.clear();
      for (Map<String, Object> good : micro("good")) {
        Map<String, Object> event = (Map<String, Object>) good.get("event");
        if (appId.equals(event.get("app_id"))) {
          mine.add(event);
        }
      }
      if (mine.size() >= count) {
        return mine;
      }
      Thread.sleep(200);
    }
    fail("only " + mine.size() + " of " + count + " good events for " + appId + "; bad rows: " + micro("bad"));
    return mine;
  }

  /** Flushes until the queue is empty: a busy pipeline may push back (503) past one cycle's attempts. */
  private static void flushed(Tracker t) {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!t.flush(Duration.ofSeconds(30))) {
      assertTrue(System.nanoTime() < deadline, "the pipeline took the events within 120 s");
    }
  }

  private static Set<String> ids(List<Map<String, Object>> events) {
    Set<String> out = new TreeSet<>();
    events.forEach(e -> out.add((String) e.get("event_id")));
    return out;
  }

  private static List<String> trackEverything(Tracker t) {
    SelfDescribingJson webPage = SelfDescribingJson.of(
        "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", Map.of("id", UUID.randomUUID().toString()));
    List<String> ids = new ArrayList<>();
    ids.addAll(t.track(PageView.builder().pageUrl("https://a.example/p?q=é").pageTitle("Ünïcode")
        .referrer("https://r.example/").context(webPage).trueTimestamp(1_700_000_000_000L).build()));
    ids.addAll(t.track(PagePing.builder().pageUrl("https://a.example/p").x(0, 10).y(5, 500).build()));
    ids.addAll(t.track(Structured.builder().category("shop").action("add").label("sku-1").value(2.5).build()));
    ids.addAll(t.track(ScreenView.builder().name("Home").id(UUID.randomUUID().toString()).build()));
    ids.addAll(t.track(LinkClick.builder().targetUrl("https://b.example/").elementId("l1").build()));
    ids.addAll(t.track(Timing.builder().category("load").variable("img").timing(150).build()));
    ids.addAll(t.track(EcommerceTransaction.builder().orderId("o-1").totalValue(3.5).currency("EUR")
        .item(EcommerceTransaction.Item.of("a", 1.5, 1)).item(EcommerceTransaction.Item.of("b", 2, 1)).build()));
    return ids;
  }

  private void sendsAndComesOutGood(Emitter.Method method) throws Exception {
    String appId = "it-" + method + "-" + UUID.randomUUID();
    Emitter emitter = Emitter.builder(collector).method(method).batchSize(4).build();
    List<String> ids;
    try (Tracker t = Tracker.builder("it", appId, emitter).platform("srv")
        .subject(Subject.builder().userId("user-1").timezone("Europe/Berlin").build()).build()) {
      ids = trackEverything(t);
      flushed(t);
    }
    List<Map<String, Object>> good = goodEvents(appId, ids.size());
    assertEquals(new TreeSet<>(ids), ids(good), "every tracked event came out good, once");
    Set<String> types = new TreeSet<>();
    for (Map<String, Object> event : good) {
      types.add((String) event.get("event"));
      assertEquals(Tracker.TRACKER_VERSION, event.get("v_tracker"));
      assertEquals("user-1", event.get("user_id"));
    }
    assertEquals(Set.of("page_view", "page_ping", "struct", "unstruct", "transaction", "transaction_item"), types);
  }

  @Test
  void postEventsComeOutGood() throws Exception {
    sendsAndComesOutGood(Emitter.Method.POST);
  }

  @Test
  void getEventsComeOutGood() throws Exception {
    sendsAndComesOutGood(Emitter.Method.GET);
  }

  @Test
  @SuppressWarnings("unchecked")
  void serverAnonymisationHidesTheNetworkUserId() throws Exception {
    String appId = "it-anon-" + UUID.randomUUID();
    Emitter emitter = Emitter.builder(collector).serverAnonymisation(true).build();
    try (Tracker t = Tracker.builder("it", appId, emitter).build()) {
      t.track(PageView.builder().pageUrl("https://a.example/").build());
      flushed(t);
    }
    Map<String, Object> event = goodEvents(appId, 1).get(0);
    assertEquals("00000000-0000-0000-0000-000000000000", event.get("network_userid"));
  }
}

package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrackerTest {
  private final RecordingTransport collector = new RecordingTransport();

  private Tracker.Builder tracker() {
    Emitter emitter = Emitter.builder("http://collector.invalid")
        .transport(collector).flushInterval(Duration.ZERO).batchSize(100).build();
    return Tracker.builder("ns", "app", emitter).base64(false).clock(() -> 42);
  }

  private List<Map<String, String>> sent(Tracker t) {
    assertTrue(t.flush(Duration.ofSeconds(5)));
    return collector.events();
  }

  private static List<?> entities(Map<String, String> event) {
    Map<?, ?> co = (Map<?, ?>) Json.parse(event.get("co"));
    assertEquals(Wire.CONTEXTS_SCHEMA, co.get("schema"));
    return ((List<?>) co.get("data")).stream().map(e -> ((Map<?, ?>) e).get("schema")).toList();
  }

  @Test
  void returnsTheIdOfEveryWireEvent() {
    try (Tracker t = tracker().build()) {
      List<String> ids = t.track(EcommerceTransaction.builder().orderId("o").totalValue(3)
          .item(EcommerceTransaction.Item.of("a", 1, 1)).item(EcommerceTransaction.Item.of("b", 2, 1)).build());
      assertEquals(3, ids.size());
      assertEquals(ids, sent(t).stream().map(m -> m.get("eid")).toList());
    }
  }

  @Test
  void staticAndGeneratedGlobalContextsJoinTheEventsOwn() {
    SelfDescribingJson own = SelfDescribingJson.of("iglu:com.acme/own/jsonschema/1-0-0", Map.of("a", 1));
    SelfDescribingJson global = SelfDescribingJson.of("iglu:com.acme/global/jsonschema/1-0-0", Map.of());
    try (Tracker t = tracker()
        .globalContext(global)
        .contextGenerator(event -> event instanceof PageView
            ? List.of(SelfDescribingJson.of("iglu:com.acme/generated/jsonschema/1-0-0", Map.of()))
            : List.of())
        .contextGenerator(event -> {
          throw new IllegalStateException("a broken generator loses no event");
        })
        .build()) {
      t.track(PageView.builder().pageUrl("https://a.example/").context(own).build());
      t.track(Structured.builder().category("c").action("a").build());
      List<Map<String, String>> wire = sent(t);
      assertEquals(2, wire.size());
      assertEquals(List.of("iglu:com.acme/own/jsonschema/1-0-0", "iglu:com.acme/global/jsonschema/1-0-0",
          "iglu:com.acme/generated/jsonschema/1-0-0"), entities(wire.get(0)));
      assertEquals(List.of("iglu:com.acme/global/jsonschema/1-0-0"), entities(wire.get(1)));
    }
  }

  @Test
  void subjectsMergeFieldByField() {
    Subject base = Subject.builder().userId("u1").language("en").build();
    try (Tracker t = tracker().subject(base).build()) {
      t.track(PageView.builder().pageUrl("https://a.example/")
          .subject(Subject.builder().userId("u2").screenResolution(10, 20).build()).build());
      t.track(PageView.builder().pageUrl("https://a.example/").build(), Subject.builder().timezone("UTC").build());
      List<Map<String, String>> wire = sent(t);
      assertEquals("u2", wire.get(0).get("uid"));
      assertEquals("en", wire.get(0).get("lang"));
      assertEquals("10x20", wire.get(0).get("res"));
      assertEquals("u1", wire.get(1).get("uid"));
      assertEquals("UTC", wire.get(1).get("tz"));
      assertFalse(wire.get(1).containsKey("res"), "one event's subject does not stick");
    }
  }

  @Test
  void anonymousTrackingLeavesOutPersonalIds() {
    Subject who = Subject.builder().userId("u").domainUserId("d").networkUserId("n").ipAddress("1.2.3.4")
        .sessionId("8c1fa2a6-8d4e-4b8e-9c56-6c0e8f2b3f11").sessionIndex(2).language("de").build();
    try (Tracker t = tracker().subject(who).anonymousTracking(true).build()) {
      t.track(PageView.builder().pageUrl("https://a.example/").build());
      Map<String, String> event = sent(t).get(0);
      for (String key : List.of("uid", "duid", "tnuid", "ip", "sid", "vid")) {
        assertFalse(event.containsKey(key), key);
      }
      assertEquals("de", event.get("lang"));
    }
  }

  @Test
  void base64EncodesJsonParametersUrlSafe() {
    Emitter emitter = Emitter.builder("http://collector.invalid").transport(collector).flushInterval(Duration.ZERO).build();
    try (Tracker t = Tracker.builder("ns", "app", emitter).build()) {
      t.track(SelfDescribing.of(SelfDescribingJson.of("iglu:com.acme/e/jsonschema/1-0-0", Map.of("q", "??>>"))));
      Map<String, String> event = sent(t).get(0);
      String px = event.get("ue_px");
      assertFalse(px.contains("+") || px.contains("/") || px.contains("="), px);
      String json = new String(Base64.getUrlDecoder().decode(px), StandardCharsets.UTF_8);
      assertEquals("{\"schema\":\"" + Wire.UNSTRUCT_EVENT_SCHEMA
          + "\",\"data\":{\"schema\":\"iglu:com.acme/e/jsonschema/1-0-0\",\"data\":{\"q\":\"??>>\"}}}", json);
      assertFalse(event.containsKey("ue_pr"));
      assertEquals("srv", event.get("p"));
      assertEquals(Tracker.TRACKER_VERSION, event.get("tv"));
    }
  }

  @Test
  void trueTimestampIsSentOnlyWhenGiven() {
    try (Tracker t = tracker().build()) {
      t.track(PageView.builder().pageUrl("https://a.example/").trueTimestamp(123L).build());
      t.track(PageView.builder().pageUrl("https://a.example/").build());
      List<Map<String, String>> wire = sent(t);
      assertEquals("123", wire.get(0).get("ttm"));
      assertEquals("42", wire.get(0).get("dtm"));
      assertFalse(wire.get(1).containsKey("ttm"));
    }
  }

  @Test
  void invalidEventsAreRefusedBeforeAnythingIsQueued() {
    assertThrows(InvalidEventException.class, () -> PageView.builder().build());
    assertThrows(InvalidEventException.class, () -> Structured.builder().category("c").build());
    assertThrows(InvalidEventException.class, () -> ScreenView.builder().name("n").id("not-a-uuid").build());
    assertThrows(InvalidEventException.class, () -> SiteSearch.builder().terms(List.of()).build());
    assertThrows(InvalidEventException.class, () -> SelfDescribingJson.of("not-iglu", Map.of()));
    assertThrows(InvalidEventException.class, () -> Structured.builder().category("c").action("a").value(Double.NaN).build());
    assertThrows(InvalidEventException.class, () -> NeutralEvents.event(Map.of("type", "page_view",
        "page_url", "https://a.example/", "contexts", Map.of("schema", "x"))));
    assertThrows(InvalidEventException.class, () -> NeutralEvents.event(Map.of("type", "page_view",
        "page_url", "https://a.example/", "pageurl", "typo")));
    assertThrows(InvalidEventException.class, () -> tracker().platform("moon").build());
  }
}

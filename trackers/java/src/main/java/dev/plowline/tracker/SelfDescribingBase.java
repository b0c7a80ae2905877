package dev.plowline.tracker;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Events sent as {@code e=ue}: the event is a self-describing JSON. */
public abstract sealed class SelfDescribingBase extends Event
    permits SelfDescribing, ScreenView, LinkClick, Timing, SubmitForm, FormFieldEvent,
        SiteSearch, CartEvent {

  SelfDescribingBase(Builder<?> builder) {
    super(builder);
  }

  /** The event as self-describing JSON (what {@code ue_pr} / {@code ue_px} carries). */
  public abstract SelfDescribingJson toSelfDescribingJson();

  @Override
  final List<Map<String, String>> wireEvents(boolean base64) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("e", "ue");
    Wire.putUnstruct(params, toSelfDescribingJson(), base64);
    return List.of(params);
  }

  /** A map that keeps insertion order and skips null values (schemas forbid explicit nulls). */
  static final class Data {
    private final Map<String, Object> map = new LinkedHashMap<>();

    Data put(String key, Object value) {
      if (value != null) {
        map.put(key, value);
      }
      return this;
    }

    Data putNullable(String key, Object value) {
      map.put(key, value);
      return this;
    }

    Map<String, Object> build() {
      return java.util.Collections.unmodifiableMap(map);
    }
  }
}

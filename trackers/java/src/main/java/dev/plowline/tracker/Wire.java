package dev.plowline.tracker;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Tracker-protocol constants and the JSON parameters (contexts, self-describing events). */
final class Wire {
  static final String CONTEXTS_SCHEMA =
      "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1";
  static final String UNSTRUCT_EVENT_SCHEMA =
      "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0";
  static final String PAYLOAD_DATA_SCHEMA =
      "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4";
  static final String SNOWPLOW = "iglu:com.snowplowanalytics.snowplow/";

  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  private Wire() {}

  static String base64url(String json) {
    return BASE64URL.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code ue_pr} (plain JSON) or {@code ue_px} (base64url), wrapped in unstruct_event 1-0-0. */
  static void putUnstruct(Map<String, String> params, SelfDescribingJson event, boolean base64) {
    String json = Json.write(new SelfDescribingJson(UNSTRUCT_EVENT_SCHEMA, event));
    if (base64) {
      params.put("ue_px", base64url(json));
    } else {
      params.put("ue_pr", json);
    }
  }

  /** {@code co} or {@code cx}, wrapped in contexts 1-0-1; nothing when there are no entities. */
  static void putContexts(
      Map<String, String> params, List<SelfDescribingJson> entities, boolean base64) {
    if (entities.isEmpty()) {
      return;
    }
    String json = Json.write(new SelfDescribingJson(CONTEXTS_SCHEMA, entities));
    if (base64) {
      params.put("cx", base64url(json));
    } else {
      params.put("co", json);
    }
  }

  static void put(Map<String, String> params, String key, String value) {
    if (value != null) {
      params.put(key, value);
    }
  }

  static void putNumber(Map<String, String> params, String key, Number value) {
    if (value != null) {
      params.put(key, Json.numberText(value));
    }
  }
}

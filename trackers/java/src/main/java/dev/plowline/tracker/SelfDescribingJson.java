package dev.plowline.tracker;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * A self-describing JSON: an Iglu schema URI and the data it describes (an entity, or the body
 * of a self-describing event). {@code data} is any value {@link Json} can write.
 *
 * @param schema {@code iglu:vendor/name/jsonschema/M-R-A}
 * @param data the JSON value (usually a {@link Map})
 */
public record SelfDescribingJson(String schema, Object data) {
  private static final Pattern IGLU_URI =
      Pattern.compile("^iglu:[a-zA-Z0-9_.\\-]+/[a-zA-Z0-9_\\-]+/[a-zA-Z0-9_\\-]+/[0-9]+-[0-9]+-[0-9]+$");

  public SelfDescribingJson {
    if (schema == null || !IGLU_URI.matcher(schema).matches()) {
      throw new InvalidEventException(
          "schema must be an Iglu URI like 'iglu:com.acme/thing/jsonschema/1-0-0', got '"
              + schema
              + "'");
    }
  }

  /** Shorthand for the constructor. */
  public static SelfDescribingJson of(String schema, Object data) {
    return new SelfDescribingJson(schema, data);
  }

  /** From parsed JSON {@code {"schema": ..., "data": ...}}, with a clear error otherwise. */
  public static SelfDescribingJson fromJson(Object value) {
    if (value instanceof SelfDescribingJson sdj) {
      return sdj;
    }
    if (!(value instanceof Map<?, ?> map)
        || map.size() != 2
        || !(map.get("schema") instanceof String schema)
        || !map.containsKey("data")) {
      throw new InvalidEventException(
          "a self-describing JSON must be an object with exactly 'schema' and 'data'");
    }
    return new SelfDescribingJson(schema, map.get("data"));
  }

  /** The compact JSON text, {@code schema} first. */
  public String toJson() {
    return Json.write(this);
  }
}

package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void writesCompactlyInInsertionOrder() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", 1);
    m.put("a", List.of(true, "x"));
    m.put("n", null);
    assertEquals("{\"b\":1,\"a\":[true,\"x\"],\"n\":null}", Json.write(m));
  }

  @Test
  void escapesWhatJsonRequiresAndKeepsUnicode() {
    assertEquals("\"q\\\"b\\\\n\\n\\u0001é😀\"", Json.write("q\"b\\n\n\u0001é😀"));
    assertEquals("\"\\ud800\"", Json.write("\ud800"), "a lone surrogate is escaped");
  }

  @Test
  void numbersPrintAsEveryTrackerPrintsThem() {
    assertEquals("5", Json.numberText(5.0));
    assertEquals("1.5", Json.numberText(1.5));
    assertEquals("0.1", Json.numberText(0.1));
    assertEquals("0.0000001", Json.numberText(1e-7));
    assertEquals("-3", Json.numberText(-3L));
    assertEquals("10.25", Json.numberText(new BigDecimal("10.25")));
    assertEquals("1.5", Json.numberText(1.5f));
    assertThrows(IllegalArgumentException.class, () -> Json.numberText(Double.NaN));
  }

  @Test
  void parsesEveryKind() {
    Object v = Json.parse(" {\"a\": [1, -2.5, 1e2, 123456789012345678901234567890], \"b\": \"\\u00e9\\n\", \"c\": null, \"d\": false} ");
    Map<?, ?> m = (Map<?, ?>) v;
    List<?> a = (List<?>) m.get("a");
    assertEquals(1L, a.get(0));
    assertEquals(-2.5, a.get(1));
    assertEquals(100.0, a.get(2));
    assertEquals(new BigInteger("123456789012345678901234567890"), a.get(3));
    assertEquals("é\n", m.get("b"));
    assertEquals(null, m.get("c"));
    assertEquals(false, m.get("d"));
  }

  @Test
  void roundTrips() {
    String text = "{\"schema\":\"iglu:a/b/jsonschema/1-0-0\",\"data\":{\"x\":[1,2.5,\"😀\"]}}";
    assertEquals(text, Json.write(Json.parse(text)));
  }

  @Test
  void refusesInvalidText() {
    for (String bad : List.of("", "{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "tru", "1 2", "\"a\nb\"")) {
      assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
    }
  }
}

package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The tracker's defaults are spec/delivery/rules.yaml, read at test time (fails on drift). */
class DeliveryRulesTest {
  @SuppressWarnings("unchecked")
  private static Map<String, Object> rules() throws IOException {
    Path file = Path.of(System.getProperty("plowline.spec", "../../spec"), "delivery", "rules.yaml");
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
    }
  }

  private static long number(Map<?, ?> map, String key) {
    return ((Number) map.get(key)).longValue();
  }

  @Test
  void statusesFollowTheRules() throws IOException {
    Map<String, Object> rules = rules();
    assertEquals(1, number(rules, "version"));
    Map<?, ?> success = (Map<?, ?>) rules.get("success");
    assertEquals(200, number(success, "min"));
    assertEquals(299, number(success, "max"));
    List<?> giveUp = (List<?>) rules.get("give_up_statuses");
    for (int status = 100; status < 600; status++) {
      if (status >= 200 && status <= 299) {
        continue;
      }
      assertEquals(!giveUp.contains(status), RetryPolicy.DEFAULT.retryable(status), "status " + status);
    }
  }

  @Test
  void backoffDefaultsFollowTheRules() throws IOException {
    Map<String, Object> rules = rules();
    RetryPolicy p = RetryPolicy.DEFAULT;
    assertEquals(number(rules, "max_attempts"), p.maxAttempts());
    Map<?, ?> backoff = (Map<?, ?>) rules.get("backoff");
    assertEquals(number(backoff, "initial_ms"), p.initialBackoff().toMillis());
    assertEquals(((Number) backoff.get("multiplier")).doubleValue(), p.multiplier());
    assertEquals(number(backoff, "max_ms"), p.maxBackoff().toMillis());
    assertEquals(((Number) backoff.get("jitter")).doubleValue(), p.jitter());
    Map<?, ?> retryAfter = (Map<?, ?>) rules.get("retry_after");
    assertEquals(retryAfter.get("honoured"), p.honourRetryAfter());
    assertEquals(number(retryAfter, "max_ms"), p.maxRetryAfter().toMillis());
  }
}

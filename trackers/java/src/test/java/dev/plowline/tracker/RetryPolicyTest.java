package dev.plowline.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RetryPolicyTest {
  @ParameterizedTest
  @ValueSource(ints = {400, 401, 403, 410, 422})
  void snowplowDefaultGivesUpOnItsFive(int status) {
    assertFalse(RetryPolicy.DEFAULT.retryable(status));
  }

  @ParameterizedTest
  @ValueSource(ints = {300, 302, 404, 408, 413, 429, 500, 502, 503, 504})
  void snowplowDefaultRetriesEverythingElse(int status) {
    assertTrue(RetryPolicy.DEFAULT.retryable(status));
  }

  @Test
  void clientErrorRuleGivesUpOnEvery4xxBut408And429() {
    RetryPolicy p = RetryPolicy.builder().giveUp(RetryPolicy.GiveUp.CLIENT_ERRORS).build();
    assertFalse(p.retryable(404));
    assertFalse(p.retryable(413));
    assertFalse(p.retryable(400));
    assertTrue(p.retryable(408));
    assertTrue(p.retryable(429));
    assertTrue(p.retryable(500));
    assertTrue(p.retryable(302));
  }

  @Test
  void overridesWinOverTheRule() {
    RetryPolicy p = RetryPolicy.builder().retryStatus(400, true).retryStatus(503, false).build();
    assertTrue(p.retryable(400));
    assertFalse(p.retryable(503));
    assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().retryStatus(204, false));
  }

  @Test
  void backoffGrowsAndIsCapped() {
    RetryPolicy p = RetryPolicy.builder()
        .initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofMillis(500)).multiplier(2).jitter(0).build();
    assertEquals(100, p.backoffMillis(1, 0.9));
    assertEquals(200, p.backoffMillis(2, 0.9));
    assertEquals(400, p.backoffMillis(3, 0.9));
    assertEquals(500, p.backoffMillis(4, 0.9));
    assertEquals(500, p.backoffMillis(1000, 0.9)); // no overflow for large counts
  }

  @Test
  void jitterShortensTheWaitByAtMostItsFraction() {
    RetryPolicy p = RetryPolicy.builder().initialBackoff(Duration.ofSeconds(1)).jitter(0.5).build();
    assertEquals(1000, p.backoffMillis(1, 0.0));
    assertEquals(750, p.backoffMillis(1, 0.5));
    assertEquals(500, p.backoffMillis(1, 1.0));
  }

  @Test
  void retryAfterSecondsAndHttpDate() {
    RetryPolicy p = RetryPolicy.builder().jitter(0).build();
    long now = 1_700_000_000_000L;
    assertEquals(3000, p.waitMillis(1, 0, "3", now));
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochMilli(now + 7000).atOffset(ZoneOffset.UTC));
    assertEquals(7000, p.waitMillis(1, 0, date, now));
    assertEquals(250, p.waitMillis(1, 0, "soon", now), "an invalid value falls back to back-off");
    assertEquals(300_000, p.waitMillis(1, 0, "86400", now), "capped at maxRetryAfter");
  }

  @Test
  void retryAfterIgnoredWhenNotHonoured() {
    RetryPolicy p = RetryPolicy.builder().honourRetryAfter(false).jitter(0).build();
    assertEquals(250, p.waitMillis(1, 0, "3", 0));
  }

  @Test
  void refusesNonsense() {
    assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().maxAttempts(0).build());
    assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().multiplier(0.5).build());
    assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().jitter(2).build());
  }
}

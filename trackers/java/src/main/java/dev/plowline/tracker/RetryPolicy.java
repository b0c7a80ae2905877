package dev.plowline.tracker;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.TreeMap;

/**
 * When a failed request is tried again, and how long to wait first.
 *
 * <p>Only a 2xx answer delivers. By default every other answer and every connection failure is
 * retried except 400, 401, 403, 410 and 422, Snowplow's documented default for its trackers;
 * {@link GiveUp#CLIENT_ERRORS} gives up on every 4xx but 408 and 429 instead, and {@link
 * Builder#retryStatus} overrides single codes (like Snowplow's {@code customRetryForStatusCodes}).
 *
 * <p>The n-th wait is {@code min(maxBackoff, initialBackoff * multiplier^(n-1))}, shortened by a
 * random fraction of at most {@code jitter}; a {@code Retry-After} answer (seconds or an HTTP
 * date), when honoured, replaces it, capped at {@code maxRetryAfter}. A request is tried at most
 * {@code maxAttempts} times per send cycle; its events then stay queued for the next cycle (a
 * flush, the timer, or the next full batch).
 */
public record RetryPolicy(
    int maxAttempts,
    Duration initialBackoff,
    Duration maxBackoff,
    double multiplier,
    double jitter,
    boolean honourRetryAfter,
    Duration maxRetryAfter,
    GiveUp giveUp,
    Map<Integer, Boolean> statusOverrides) {

  /** Which answers end a request for good (its events go to the failure callback). */
  public enum GiveUp {
    /** 400, 401, 403, 410 and 422: Snowplow's documented default. */
    SNOWPLOW,
    /** Every 4xx except 408 and 429: the request itself is wrong. */
    CLIENT_ERRORS
  }

  /** The defaults: 5 attempts, 250 ms doubling to 30 s, jitter 0.5, Retry-After up to 5 min. */
  public static final RetryPolicy DEFAULT = builder().build();

  /** One attempt, never a retry. */
  public static final RetryPolicy NONE = builder().maxAttempts(1).build();

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
    }
    nonNegative("initialBackoff", initialBackoff);
    nonNegative("maxBackoff", maxBackoff);
    nonNegative("maxRetryAfter", maxRetryAfter);
    if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException("multiplier must be >= 1, got " + multiplier);
    }
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new IllegalArgumentException("jitter must be within [0, 1], got " + jitter);
    }
    if (giveUp == null) {
      throw new IllegalArgumentException("giveUp is required");
    }
    statusOverrides = Map.copyOf(statusOverrides);
  }

  private static void nonNegative(String name, Duration value) {
    if (value == null || value.isNegative()) {
      throw new IllegalArgumentException(name + " must be a duration >= 0, got " + value);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Whether a request answered with {@code status} (not 2xx) is tried again. */
  public boolean retryable(int status) {
    Boolean override = statusOverrides.get(status);
    if (override != null) {
      return override;
    }
    return switch (giveUp) {
      case SNOWPLOW -> !(status == 400 || status == 401 || status == 403 || status == 410
          || status == 422);
      case CLIENT_ERRORS -> status < 400 || status >= 500 || status == 408 || status == 429;
    };
  }

  /** The back-off after the {@code failures}-th failure; {@code random} is uniform in [0, 1). */
  public long backoffMillis(int failures, double random) {
    double raw = (double) initialBackoff.toMillis() * Math.pow(multiplier, Math.min(Math.max(0, failures - 1), 64));
    double capped = Math.min((double) maxBackoff.toMillis(), raw);
    return Math.round(capped * (1.0 - jitter * random));
  }

  /** The wait before the next attempt: Retry-After when honoured and valid, else back-off. */
  public long waitMillis(int failures, double random, String retryAfter, long nowMillis) {
    if (honourRetryAfter && retryAfter != null) {
      long asked = parseRetryAfter(retryAfter, nowMillis);
      if (asked >= 0) {
        return Math.min(asked, maxRetryAfter.toMillis());
      }
    }
    return backoffMillis(failures, random);
  }

  /** Milliseconds a Retry-After value asks for (delta-seconds or HTTP date); -1 if invalid. */
  static long parseRetryAfter(String value, long nowMillis) {
    String text = value.trim();
    if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
      return text.length() > 9 ? Long.MAX_VALUE / 4 : Long.parseLong(text) * 1000;
    }
    try {
      long when = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
      return Math.max(0, when - nowMillis);
    } catch (DateTimeParseException e) {
      return -1;
    }
  }

  /** Builds a {@link RetryPolicy}, starting from the defaults. */
  public static final class Builder {
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofMillis(250);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private double multiplier = 2;
    private double jitter = 0.5;
    private boolean honourRetryAfter = true;
    private Duration maxRetryAfter = Duration.ofMinutes(5);
    private GiveUp giveUp = GiveUp.SNOWPLOW;
    private final Map<Integer, Boolean> overrides = new TreeMap<>();

    private Builder() {}

    /** Attempts per send cycle, the first one included. */
    public Builder maxAttempts(int v) {
      maxAttempts = v;
      return this;
    }

    public Builder initialBackoff(Duration v) {
      initialBackoff = v;
      return this;
    }

    public Builder maxBackoff(Duration v) {
      maxBackoff = v;
      return this;
    }

    public Builder multiplier(double v) {
      multiplier = v;
      return this;
    }

    /** The largest fraction (0 to 1) a random jitter takes off each wait; 0 for none. */
    public Builder jitter(double v) {
      jitter = v;
      return this;
    }

    public Builder honourRetryAfter(boolean v) {
      honourRetryAfter = v;
      return this;
    }

    public Builder maxRetryAfter(Duration v) {
      maxRetryAfter = v;
      return this;
    }

    public Builder giveUp(GiveUp v) {
      giveUp = v;
      return this;
    }

    /** Retry (true) or give up on (false) this status, whatever {@link GiveUp} says. */
    public Builder retryStatus(int status, boolean retry) {
      if (status >= 200 && status < 300) {
        throw new IllegalArgumentException("2xx always means delivered, got " + status);
      }
      overrides.put(status, retry);
      return this;
    }

    public RetryPolicy build() {
      return new RetryPolicy(
          maxAttempts, initialBackoff, maxBackoff, multiplier, jitter, honourRetryAfter,
          maxRetryAfter, giveUp, overrides);
    }
  }
}

package dev.plowline.tracker;

import java.util.Map;

/**
 * Who and where the events are about: user ids, device and session. Set one on the tracker, and
 * optionally another on a single event; an event's subject wins field by field.
 *
 * <p>Wire names: {@code uid duid tnuid res vp cd tz lang ip ua sid vid} (the network user id is
 * sent as {@code tnuid}, which the enricher applies last).
 */
public record Subject(
    String userId,
    String domainUserId,
    String networkUserId,
    Dimensions screenResolution,
    Dimensions viewport,
    Integer colorDepth,
    String timezone,
    String language,
    String ipAddress,
    String useragent,
    String sessionId,
    Integer sessionIndex) {

  /** The empty subject. */
  public static final Subject NONE = builder().build();

  /** Width and height in pixels, sent as {@code WIDTHxHEIGHT}. */
  public record Dimensions(int width, int height) {
    public Dimensions {
      Checks.nonNegative("width", width);
      Checks.nonNegative("height", height);
    }

    @Override
    public String toString() {
      return width + "x" + height;
    }
  }

  public Subject {
    if (sessionId != null) {
      Checks.uuid("sessionId", sessionId);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this subject's fields. */
  public Builder toBuilder() {
    return new Builder().merge(this);
  }

  /** This subject with every field {@code other} sets replacing this one's. */
  public Subject merge(Subject other) {
    if (other == null || other.equals(NONE)) {
      return this;
    }
    return toBuilder().merge(other).build();
  }

  /** Without the fields that identify a person (for anonymous tracking). */
  Subject anonymised() {
    return new Subject(
        null, null, null, screenResolution, viewport, colorDepth, timezone, language, null,
        useragent, null, null);
  }

  void addTo(Map<String, String> params) {
    put(params, "uid", userId);
    put(params, "duid", domainUserId);
    put(params, "tnuid", networkUserId);
    put(params, "res", screenResolution);
    put(params, "vp", viewport);
    put(params, "cd", colorDepth);
    put(params, "tz", timezone);
    put(params, "lang", language);
    put(params, "ip", ipAddress);
    put(params, "ua", useragent);
    put(params, "sid", sessionId);
    put(params, "vid", sessionIndex);
  }

  private static void put(Map<String, String> params, String key, Object value) {
    if (value != null) {
      params.put(key, value.toString());
    }
  }

  /** Builds a {@link Subject}; every field is optional. */
  public static final class Builder {
    private String userId;
    private String domainUserId;
    private String networkUserId;
    private Dimensions screenResolution;
    private Dimensions viewport;
    private Integer colorDepth;
    private String timezone;
    private String language;
    private String ipAddress;
    private String useragent;
    private String sessionId;
    private Integer sessionIndex;

    private Builder() {}

    Builder merge(Subject s) {
      userId = pick(s.userId, userId);
      domainUserId = pick(s.domainUserId, domainUserId);
      networkUserId = pick(s.networkUserId, networkUserId);
      screenResolution = pick(s.screenResolution, screenResolution);
      viewport = pick(s.viewport, viewport);
      colorDepth = pick(s.colorDepth, colorDepth);
      timezone = pick(s.timezone, timezone);
      language = pick(s.language, language);
      ipAddress = pick(s.ipAddress, ipAddress);
      useragent = pick(s.useragent, useragent);
      sessionId = pick(s.sessionId, sessionId);
      sessionIndex = pick(s.sessionIndex, sessionIndex);
      return this;
    }

    private static <T> T pick(T preferred, T fallback) {
      return preferred != null ? preferred : fallback;
    }

    public Builder userId(String value) {
      userId = value;
      return this;
    }

    public Builder domainUserId(String value) {
      domainUserId = value;
      return this;
    }

    public Builder networkUserId(String value) {
      networkUserId = value;
      return this;
    }

    public Builder screenResolution(int width, int height) {
      screenResolution = new Dimensions(width, height);
      return this;
    }

    public Builder viewport(int width, int height) {
      viewport = new Dimensions(width, height);
      return this;
    }

    public Builder colorDepth(int value) {
      colorDepth = value;
      return this;
    }

    public Builder timezone(String value) {
      timezone = value;
      return this;
    }

    public Builder language(String value) {
      language = value;
      return this;
    }

    public Builder ipAddress(String value) {
      ipAddress = value;
      return this;
    }

    public Builder useragent(String value) {
      useragent = value;
      return this;
    }

    /** The session id, a UUID. */
    public Builder sessionId(String value) {
      sessionId = value;
      return this;
    }

    /** The session index, 1 for the user's first session. */
    public Builder sessionIndex(int value) {
      sessionIndex = value;
      return this;
    }

    public Subject build() {
      return new Subject(
          userId, domainUserId, networkUserId, screenResolution, viewport, colorDepth, timezone,
          language, ipAddress, useragent, sessionId, sessionIndex);
    }
  }
}

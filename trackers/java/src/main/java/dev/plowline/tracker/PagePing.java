package dev.plowline.tracker;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code e=pp}: the page is still being looked at; offsets are the scroll range since the last ping. */
public final class PagePing extends Event {
  private final String pageUrl;
  private final String pageTitle;
  private final String referrer;
  private final int minX;
  private final int maxX;
  private final int minY;
  private final int maxY;

  private PagePing(Builder builder) {
    super(builder);
    this.pageUrl = Checks.text("pageUrl", builder.pageUrl);
    this.pageTitle = builder.pageTitle;
    this.referrer = builder.referrer;
    this.minX = builder.minX;
    this.maxX = builder.maxX;
    this.minY = builder.minY;
    this.maxY = builder.maxY;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  List<Map<String, String>> wireEvents(boolean base64) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("e", "pp");
    p.put("url", pageUrl);
    Wire.put(p, "page", pageTitle);
    Wire.put(p, "refr", referrer);
    p.put("pp_mix", Integer.toString(minX));
    p.put("pp_max", Integer.toString(maxX));
    p.put("pp_miy", Integer.toString(minY));
    p.put("pp_may", Integer.toString(maxY));
    return List.of(p);
  }

  /** Builds a {@link PagePing}; {@code pageUrl} is required, offsets default to 0. */
  public static final class Builder extends Event.Builder<Builder> {
    private String pageUrl;
    private String pageTitle;
    private String referrer;
    private int minX;
    private int maxX;
    private int minY;
    private int maxY;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder pageUrl(String value) {
      pageUrl = value;
      return this;
    }

    public Builder pageTitle(String value) {
      pageTitle = value;
      return this;
    }

    public Builder referrer(String value) {
      referrer = value;
      return this;
    }

    /** Horizontal scroll range. */
    public Builder x(int min, int max) {
      minX = min;
      maxX = max;
      return this;
    }

    /** Vertical scroll range. */
    public Builder y(int min, int max) {
      minY = min;
      maxY = max;
      return this;
    }

    public PagePing build() {
      return new PagePing(this);
    }
  }
}

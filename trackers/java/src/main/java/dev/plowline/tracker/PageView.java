package dev.plowline.tracker;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code e=pv}: a page was viewed. */
public final class PageView extends Event {
  private final String pageUrl;
  private final String pageTitle;
  private final String referrer;

  private PageView(Builder builder) {
    super(builder);
    this.pageUrl = Checks.text("pageUrl", builder.pageUrl);
    this.pageTitle = builder.pageTitle;
    this.referrer = builder.referrer;
  }

  public static Builder builder() {
    return new Builder();
  }

  public String pageUrl() {
    return pageUrl;
  }

  @Override
  List<Map<String, String>> wireEvents(boolean base64) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("e", "pv");
    p.put("url", pageUrl);
    Wire.put(p, "page", pageTitle);
    Wire.put(p, "refr", referrer);
    return List.of(p);
  }

  /** Builds a {@link PageView}; {@code pageUrl} is required. */
  public static final class Builder extends Event.Builder<Builder> {
    private String pageUrl;
    private String pageTitle;
    private String referrer;

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

    public PageView build() {
      return new PageView(this);
    }
  }
}

package dev.plowline.tracker;

import java.util.List;

/** A link was followed ({@code link_click/1-0-1}). */
public final class LinkClick extends SelfDescribingBase {
  static final String SCHEMA = Wire.SNOWPLOW + "link_click/jsonschema/1-0-1";

  private final String targetUrl;
  private final String elementId;
  private final List<String> elementClasses;
  private final String elementTarget;
  private final String elementContent;

  private LinkClick(Builder b) {
    super(b);
    this.targetUrl = Checks.text("targetUrl", b.targetUrl);
    this.elementId = b.elementId;
    this.elementClasses = b.elementClasses == null ? null : Checks.list("elementClasses", b.elementClasses);
    this.elementTarget = b.elementTarget;
    this.elementContent = b.elementContent;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SelfDescribingJson toSelfDescribingJson() {
    return new SelfDescribingJson(
        SCHEMA,
        new Data()
            .put("targetUrl", targetUrl)
            .put("elementId", elementId)
            .put("elementClasses", elementClasses)
            .put("elementTarget", elementTarget)
            .put("elementContent", elementContent)
            .build());
  }

  /** Builds a {@link LinkClick}; {@code targetUrl} is required. */
  public static final class Builder extends Event.Builder<Builder> {
    private String targetUrl;
    private String elementId;
    private List<String> elementClasses;
    private String elementTarget;
    private String elementContent;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder targetUrl(String v) {
      targetUrl = v;
      return this;
    }

    public Builder elementId(String v) {
      elementId = v;
      return this;
    }

    public Builder elementClasses(List<String> v) {
      elementClasses = v;
      return this;
    }

    public Builder elementTarget(String v) {
      elementTarget = v;
      return this;
    }

    public Builder elementContent(String v) {
      elementContent = v;
      return this;
    }

    public LinkClick build() {
      return new LinkClick(this);
    }
  }
}

package dev.plowline.tracker;

/**
 * A screen view, by default with the mobile schema ({@code
 * com.snowplowanalytics.mobile/screen_view/1-0-0}, whose {@code id} is a UUID), or with the
 * legacy one ({@code com.snowplowanalytics.snowplow/screen_view/1-0-0}: name and id only).
 */
public final class ScreenView extends SelfDescribingBase {
  static final String MOBILE_SCHEMA = "iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0";
  static final String LEGACY_SCHEMA = Wire.SNOWPLOW + "screen_view/jsonschema/1-0-0";

  /** Which screen_view schema to send. */
  public enum Variant {
    MOBILE,
    LEGACY
  }

  private final Variant variant;
  private final String name;
  private final String id;
  private final String type;
  private final String previousName;
  private final String previousId;
  private final String previousType;
  private final String transitionType;

  private ScreenView(Builder b) {
    super(b);
    this.variant = Checks.notNull("variant", b.variant);
    this.name = Checks.text("name", b.name);
    if (variant == Variant.MOBILE) {
      this.id = Checks.uuid("id", b.id);
      this.previousId = b.previousId == null ? null : Checks.uuid("previousId", b.previousId);
    } else {
      if (b.type != null || b.previousName != null || b.previousId != null
          || b.previousType != null || b.transitionType != null) {
        throw new InvalidEventException("the legacy screen_view schema has only name and id");
      }
      this.id = b.id;
      this.previousId = null;
    }
    this.type = b.type;
    this.previousName = b.previousName;
    this.previousType = b.previousType;
    this.transitionType = b.transitionType;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SelfDescribingJson toSelfDescribingJson() {
    if (variant == Variant.LEGACY) {
      return new SelfDescribingJson(LEGACY_SCHEMA, new Data().put("name", name).put("id", id).build());
    }
    return new SelfDescribingJson(
        MOBILE_SCHEMA,
        new Data()
            .put("name", name)
            .put("id", id)
            .put("type", type)
            .put("previousName", previousName)
            .put("previousId", previousId)
            .put("previousType", previousType)
            .put("transitionType", transitionType)
            .build());
  }

  /** Builds a {@link ScreenView}; {@code name} is required, and {@code id} for the mobile schema. */
  public static final class Builder extends Event.Builder<Builder> {
    private Variant variant = Variant.MOBILE;
    private String name;
    private String id;
    private String type;
    private String previousName;
    private String previousId;
    private String previousType;
    private String transitionType;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder variant(Variant v) {
      variant = v;
      return this;
    }

    public Builder name(String v) {
      name = v;
      return this;
    }

    public Builder id(String v) {
      id = v;
      return this;
    }

    public Builder type(String v) {
      type = v;
      return this;
    }

    public Builder previousName(String v) {
      previousName = v;
      return this;
    }

    public Builder previousId(String v) {
      previousId = v;
      return this;
    }

    public Builder previousType(String v) {
      previousType = v;
      return this;
    }

    public Builder transitionType(String v) {
      transitionType = v;
      return this;
    }

    public ScreenView build() {
      return new ScreenView(this);
    }
  }
}

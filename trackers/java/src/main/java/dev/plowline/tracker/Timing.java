package dev.plowline.tracker;

/** A user timing ({@code timing/1-0-0}), usually in milliseconds. */
public final class Timing extends SelfDescribingBase {
  static final String SCHEMA = Wire.SNOWPLOW + "timing/jsonschema/1-0-0";

  private final String category;
  private final String variable;
  private final Number timing;
  private final String label;

  private Timing(Builder b) {
    super(b);
    this.category = Checks.present("category", b.category);
    this.variable = Checks.present("variable", b.variable);
    this.timing = Checks.number("timing", b.timing);
    this.label = b.label;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SelfDescribingJson toSelfDescribingJson() {
    return new SelfDescribingJson(
        SCHEMA,
        new Data()
            .put("category", category)
            .put("variable", variable)
            .put("timing", timing)
            .put("label", label)
            .build());
  }

  /** Builds a {@link Timing}; {@code category}, {@code variable} and {@code timing} are required. */
  public static final class Builder extends Event.Builder<Builder> {
    private String category;
    private String variable;
    private Number timing;
    private String label;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder category(String v) {
      category = v;
      return this;
    }

    public Builder variable(String v) {
      variable = v;
      return this;
    }

    public Builder timing(Number v) {
      timing = v;
      return this;
    }

    public Builder label(String v) {
      label = v;
      return this;
    }

    public Timing build() {
      return new Timing(this);
    }
  }
}

package dev.plowline.tracker;

/** Any event described by your own schema ({@code e=ue}). */
public final class SelfDescribing extends SelfDescribingBase {
  private final SelfDescribingJson event;

  private SelfDescribing(Builder builder) {
    super(builder);
    this.event = Checks.notNull("event", builder.event);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Shorthand: {@code SelfDescribing.of(SelfDescribingJson.of(schema, data))}. */
  public static SelfDescribing of(SelfDescribingJson event) {
    return builder().event(event).build();
  }

  @Override
  public SelfDescribingJson toSelfDescribingJson() {
    return event;
  }

  /** Builds a {@link SelfDescribing} event; {@code event} is required. */
  public static final class Builder extends Event.Builder<Builder> {
    private SelfDescribingJson event;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder event(SelfDescribingJson value) {
      event = value;
      return this;
    }

    public SelfDescribing build() {
      return new SelfDescribing(this);
    }
  }
}

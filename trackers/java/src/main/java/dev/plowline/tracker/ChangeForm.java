package dev.plowline.tracker;

/** A form field's value changed ({@code change_form/1-0-0}; the input type is sent as {@code type}). */
public final class ChangeForm extends FormFieldEvent {
  static final String SCHEMA = Wire.SNOWPLOW + "change_form/jsonschema/1-0-0";

  private ChangeForm(Builder b) {
    super(b);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  String schema() {
    return SCHEMA;
  }

  @Override
  String typeKey() {
    return "type";
  }

  /** Builds a {@link ChangeForm}. */
  public static final class Builder extends FormFieldEvent.Builder<Builder> {
    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public ChangeForm build() {
      return new ChangeForm(this);
    }
  }
}

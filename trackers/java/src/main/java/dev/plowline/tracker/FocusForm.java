package dev.plowline.tracker;

/** A form field received focus ({@code focus_form/1-0-0}; the input type is sent as {@code elementType}). */
public final class FocusForm extends FormFieldEvent {
  static final String SCHEMA = Wire.SNOWPLOW + "focus_form/jsonschema/1-0-0";

  private FocusForm(Builder b) {
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
    return "elementType";
  }

  /** Builds a {@link FocusForm}. */
  public static final class Builder extends FormFieldEvent.Builder<Builder> {
    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public FocusForm build() {
      return new FocusForm(this);
    }
  }
}

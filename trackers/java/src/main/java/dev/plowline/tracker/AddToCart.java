package dev.plowline.tracker;

/** An item went into the cart ({@code add_to_cart/1-0-0}). */
public final class AddToCart extends CartEvent {
  static final String SCHEMA = Wire.SNOWPLOW + "add_to_cart/jsonschema/1-0-0";

  private AddToCart(Builder b) {
    super(b);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  String schema() {
    return SCHEMA;
  }

  /** Builds an {@link AddToCart}. */
  public static final class Builder extends CartEvent.Builder<Builder> {
    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public AddToCart build() {
      return new AddToCart(this);
    }
  }
}

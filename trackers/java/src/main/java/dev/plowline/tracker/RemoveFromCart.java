package dev.plowline.tracker;

/** An item left the cart ({@code remove_from_cart/1-0-0}). */
public final class RemoveFromCart extends CartEvent {
  static final String SCHEMA = Wire.SNOWPLOW + "remove_from_cart/jsonschema/1-0-0";

  private RemoveFromCart(Builder b) {
    super(b);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  String schema() {
    return SCHEMA;
  }

  /** Builds an {@link RemoveFromCart}. */
  public static final class Builder extends CartEvent.Builder<Builder> {
    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public RemoveFromCart build() {
      return new RemoveFromCart(this);
    }
  }
}

package dev.plowline.tracker;

/** {@link AddToCart} and {@link RemoveFromCart}: an item and a quantity. */
public abstract sealed class CartEvent extends SelfDescribingBase permits AddToCart, RemoveFromCart {
  private final String sku;
  private final Number quantity;
  private final String name;
  private final String category;
  private final Number unitPrice;
  private final String currency;

  CartEvent(Builder<?> b) {
    super(b);
    this.sku = Checks.text("sku", b.sku);
    this.quantity = Checks.number("quantity", b.quantity);
    this.name = b.name;
    this.category = b.category;
    this.unitPrice = b.unitPrice == null ? null : Checks.number("unitPrice", b.unitPrice);
    this.currency = b.currency;
  }

  abstract String schema();

  @Override
  public final SelfDescribingJson toSelfDescribingJson() {
    return new SelfDescribingJson(
        schema(),
        new Data()
            .put("sku", sku)
            .put("quantity", quantity)
            .put("name", name)
            .put("category", category)
            .put("unitPrice", unitPrice)
            .put("currency", currency)
            .build());
  }

  /** Fields of both cart events; {@code sku} and {@code quantity} are required. */
  public abstract static class Builder<B extends Builder<B>> extends Event.Builder<B> {
    private String sku;
    private Number quantity;
    private String name;
    private String category;
    private Number unitPrice;
    private String currency;

    Builder() {}

    public B sku(String v) {
      sku = v;
      return self();
    }

    public B quantity(Number v) {
      quantity = v;
      return self();
    }

    public B name(String v) {
      name = v;
      return self();
    }

    public B category(String v) {
      category = v;
      return self();
    }

    public B unitPrice(Number v) {
      unitPrice = v;
      return self();
    }

    public B currency(String v) {
      currency = v;
      return self();
    }
  }
}

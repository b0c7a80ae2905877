package dev.plowline.tracker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A legacy ecommerce transaction: one {@code e=tr} event, then one {@code e=ti} event per item.
 * Every wire event carries the transaction's entities and true timestamp; each item repeats the
 * order id and currency.
 */
public final class EcommerceTransaction extends Event {
  /** One line of the transaction (its own {@code e=ti} event). */
  public record Item(String sku, Number price, int quantity, String name, String category) {
    public Item {
      Checks.text("items[].sku", sku);
      Checks.number("items[].price", price);
    }

    /** An item with the required fields only. */
    public static Item of(String sku, Number price, int quantity) {
      return new Item(sku, price, quantity, null, null);
    }
  }

  private final String orderId;
  private final Number totalValue;
  private final String affiliation;
  private final Number taxValue;
  private final Number shipping;
  private final String city;
  private final String state;
  private final String country;
  private final String currency;
  private final List<Item> items;

  private EcommerceTransaction(Builder b) {
    super(b);
    this.orderId = Checks.text("orderId", b.orderId);
    this.totalValue = Checks.number("totalValue", b.totalValue);
    this.affiliation = b.affiliation;
    this.taxValue = b.taxValue == null ? null : Checks.number("taxValue", b.taxValue);
    this.shipping = b.shipping == null ? null : Checks.number("shipping", b.shipping);
    this.city = b.city;
    this.state = b.state;
    this.country = b.country;
    this.currency = b.currency;
    this.items = Checks.list("items", b.items);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The items, in order. */
  public List<Item> items() {
    return items;
  }

  @Override
  List<Map<String, String>> wireEvents(boolean base64) {
    List<Map<String, String>> events = new ArrayList<>(1 + items.size());
    Map<String, String> tr = new LinkedHashMap<>();
    tr.put("e", "tr");
    tr.put("tr_id", orderId);
    Wire.putNumber(tr, "tr_tt", totalValue);
    Wire.put(tr, "tr_af", affiliation);
    Wire.putNumber(tr, "tr_tx", taxValue);
    Wire.putNumber(tr, "tr_sh", shipping);
    Wire.put(tr, "tr_ci", city);
    Wire.put(tr, "tr_st", state);
    Wire.put(tr, "tr_co", country);
    Wire.put(tr, "tr_cu", currency);
    events.add(tr);
    for (Item item : items) {
      Map<String, String> ti = new LinkedHashMap<>();
      ti.put("e", "ti");
      ti.put("ti_id", orderId);
      ti.put("ti_sk", item.sku());
      Wire.putNumber(ti, "ti_pr", item.price());
      ti.put("ti_qu", Integer.toString(item.quantity()));
      Wire.put(ti, "ti_nm", item.name());
      Wire.put(ti, "ti_ca", item.category());
      Wire.put(ti, "ti_cu", currency);
      events.add(ti);
    }
    return events;
  }

  /** Builds an {@link EcommerceTransaction}; {@code orderId} and {@code totalValue} are required. */
  public static final class Builder extends Event.Builder<Builder> {
    private String orderId;
    private Number totalValue;
    private String affiliation;
    private Number taxValue;
    private Number shipping;
    private String city;
    private String state;
    private String country;
    private String currency;
    private final List<Item> items = new ArrayList<>();

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder orderId(String v) {
      orderId = v;
      return this;
    }

    public Builder totalValue(Number v) {
      totalValue = v;
      return this;
    }

    public Builder affiliation(String v) {
      affiliation = v;
      return this;
    }

    public Builder taxValue(Number v) {
      taxValue = v;
      return this;
    }

    public Builder shipping(Number v) {
      shipping = v;
      return this;
    }

    public Builder city(String v) {
      city = v;
      return this;
    }

    public Builder state(String v) {
      state = v;
      return this;
    }

    public Builder country(String v) {
      country = v;
      return this;
    }

    public Builder currency(String v) {
      currency = v;
      return this;
    }

    public Builder item(Item v) {
      items.add(Checks.notNull("item", v));
      return this;
    }

    public Builder items(List<Item> v) {
      for (Item item : Checks.notNull("items", v)) {
        item(item);
      }
      return this;
    }

    public EcommerceTransaction build() {
      return new EcommerceTransaction(this);
    }
  }
}

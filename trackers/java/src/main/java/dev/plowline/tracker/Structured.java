package dev.plowline.tracker;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code e=se}: a category/action event in the style of Google Analytics. */
public final class Structured extends Event {
  private final String category;
  private final String action;
  private final String label;
  private final String property;
  private final Number value;

  private Structured(Builder builder) {
    super(builder);
    this.category = Checks.text("category", builder.category);
    this.action = Checks.text("action", builder.action);
    this.label = builder.label;
    this.property = builder.property;
    this.value = builder.value == null ? null : Checks.number("value", builder.value);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  List<Map<String, String>> wireEvents(boolean base64) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("e", "se");
    p.put("se_ca", category);
    p.put("se_ac", action);
    Wire.put(p, "se_la", label);
    Wire.put(p, "se_pr", property);
    Wire.putNumber(p, "se_va", value);
    return List.of(p);
  }

  /** Builds a {@link Structured} event; {@code category} and {@code action} are required. */
  public static final class Builder extends Event.Builder<Builder> {
    private String category;
    private String action;
    private String label;
    private String property;
    private Number value;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder category(String v) {
      category = v;
      return this;
    }

    public Builder action(String v) {
      action = v;
      return this;
    }

    public Builder label(String v) {
      label = v;
      return this;
    }

    public Builder property(String v) {
      property = v;
      return this;
    }

    public Builder value(Number v) {
      value = v;
      return this;
    }

    public Structured build() {
      return new Structured(this);
    }
  }
}

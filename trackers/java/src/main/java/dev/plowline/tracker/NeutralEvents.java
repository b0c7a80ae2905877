package dev.plowline.tracker;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Events and subjects from the language-neutral shapes of Plowline's test vectors ({@code
 * spec/vectors/FORMAT.md}): parsed JSON or YAML such as {@code {"type": "page_view", "page_url":
 * "https://a.example/"}}. The conformance driver and the vector tests use it; it also suits
 * events described in configuration. Anything that does not fit is an {@link
 * InvalidEventException} naming the key.
 */
public final class NeutralEvents {
  /** Every {@code type} understood. */
  public static final Set<String> TYPES =
      Set.of(
          "page_view", "page_ping", "structured", "self_describing", "screen_view", "link_click",
          "submit_form", "change_form", "focus_form", "site_search", "timing",
          "ecommerce_transaction", "add_to_cart", "remove_from_cart");

  private NeutralEvents() {}

  /** The event described by {@code spec}. */
  public static Event event(Object spec) {
    Fields f = new Fields("event", spec);
    String type = f.string("type");
    if (type == null || !TYPES.contains(type)) {
      throw new InvalidEventException("unknown event type '" + type + "'");
    }
    Event event =
        switch (type) {
          case "page_view" -> common(f, PageView.builder()
              .pageUrl(f.string("page_url"))
              .pageTitle(f.string("page_title"))
              .referrer(f.string("referrer")))
              .build();
          case "page_ping" -> common(f, PagePing.builder()
              .pageUrl(f.string("page_url"))
              .pageTitle(f.string("page_title"))
              .referrer(f.string("referrer"))
              .x(f.integer("min_x", 0), f.integer("max_x", 0))
              .y(f.integer("min_y", 0), f.integer("max_y", 0)))
              .build();
          case "structured" -> common(f, Structured.builder()
              .category(f.string("category"))
              .action(f.string("action"))
              .label(f.string("label"))
              .property(f.string("property"))
              .value(f.number("value")))
              .build();
          case "self_describing" -> common(f, SelfDescribing.builder()
              .event(f.has("event") ? SelfDescribingJson.fromJson(f.raw("event")) : null))
              .build();
          case "screen_view" -> common(f, ScreenView.builder()
              .variant(variant(f.string("variant")))
              .name(f.string("name"))
              .id(f.string("id"))
              .type(f.string("screen_type"))
              .previousName(f.string("previous_name"))
              .previousId(f.string("previous_id"))
              .previousType(f.string("previous_type"))
              .transitionType(f.string("transition_type")))
              .build();
          case "link_click" -> common(f, LinkClick.builder()
              .targetUrl(f.string("target_url"))
              .elementId(f.string("element_id"))
              .elementClasses(f.strings("element_classes"))
              .elementTarget(f.string("element_target"))
              .elementContent(f.string("element_content")))
              .build();
          case "submit_form" -> common(f, SubmitForm.builder()
              .formId(f.string("form_id"))
              .formClasses(f.strings("form_classes"))
              .elements(elements(f)))
              .build();
          case "change_form" -> formField(f, ChangeForm.builder()).build();
          case "focus_form" -> formField(f, FocusForm.builder()).build();
          case "site_search" -> siteSearch(f);
          case "timing" -> common(f, Timing.builder()
              .category(f.string("category"))
              .variable(f.string("variable"))
              .timing(f.number("timing"))
              .label(f.string("label")))
              .build();
          case "ecommerce_transaction" -> transaction(f);
          case "add_to_cart" -> cart(f, AddToCart.builder()).build();
          default -> cart(f, RemoveFromCart.builder()).build();
        };
    f.checkAllUsed();
    return event;
  }

  /** The subject described by {@code spec} (null or empty: {@link Subject#NONE}). */
  public static Subject subject(Object spec) {
    if (spec == null) {
      return Subject.NONE;
    }
    Fields f = new Fields("subject", spec);
    Subject.Builder b = Subject.builder()
        .userId(f.string("user_id"))
        .domainUserId(f.string("domain_user_id"))
        .networkUserId(f.string("network_user_id"))
        .timezone(f.string("timezone"))
        .language(f.string("language"))
        .ipAddress(f.string("ip_address"))
        .useragent(f.string("useragent"))
        .sessionId(f.string("session_id"));
    int[] res = f.dimensions("screen_resolution");
    if (res != null) {
      b.screenResolution(res[0], res[1]);
    }
    int[] vp = f.dimensions("viewport");
    if (vp != null) {
      b.viewport(vp[0], vp[1]);
    }
    if (f.has("color_depth")) {
      b.colorDepth(f.integer("color_depth", 0));
    }
    if (f.has("session_index")) {
      b.sessionIndex(f.integer("session_index", 0));
    }
    f.checkAllUsed();
    return b.build();
  }

  private static <B extends Event.Builder<B>> B common(Fields f, B builder) {
    if (f.has("contexts")) {
      Object contexts = f.raw("contexts");
      if (!(contexts instanceof List<?> list)) {
        throw new InvalidEventException("contexts must be a list of self-describing JSON objects");
      }
      for (Object context : list) {
        builder.context(SelfDescribingJson.fromJson(context));
      }
    }
    if (f.has("true_timestamp_ms")) {
      builder.trueTimestamp(f.longValue("true_timestamp_ms"));
    }
    return builder;
  }

  private static ScreenView.Variant variant(String value) {
    if (value == null || value.equals("mobile")) {
      return ScreenView.Variant.MOBILE;
    }
    if (value.equals("legacy")) {
      return ScreenView.Variant.LEGACY;
    }
    throw new InvalidEventException("variant must be 'mobile' or 'legacy', got '" + value + "'");
  }

  private static List<SubmitForm.Element> elements(Fields f) {
    List<Fields> items = f.objects("elements");
    if (items == null) {
      return null;
    }
    List<SubmitForm.Element> out = new ArrayList<>();
    for (Fields e : items) {
      out.add(new SubmitForm.Element(e.string("name"), e.string("value"), e.string("node_name"), e.string("type")));
      e.checkAllUsed();
    }
    return out;
  }

  private static <B extends FormFieldEvent.Builder<B>> B formField(Fields f, B builder) {
    return common(f, builder)
        .formId(f.string("form_id"))
        .elementId(f.string("element_id"))
        .nodeName(f.string("node_name"))
        .value(f.string("value"))
        .elementType(f.string("element_type"))
        .elementClasses(f.strings("element_classes"));
  }

  private static <B extends CartEvent.Builder<B>> B cart(Fields f, B builder) {
    return common(f, builder)
        .sku(f.string("sku"))
        .quantity(f.number("quantity"))
        .name(f.string("name"))
        .category(f.string("category"))
        .unitPrice(f.number("unit_price"))
        .currency(f.string("currency"));
  }

  private static Event siteSearch(Fields f) {
    SiteSearch.Builder b = common(f, SiteSearch.builder()).terms(f.strings("terms"));
    if (f.has("filters")) {
      if (!(f.raw("filters") instanceof Map<?, ?> filters)) {
        throw new InvalidEventException("filters must be an object");
      }
      Map<String, Object> copy = new LinkedHashMap<>();
      filters.forEach((k, v) -> copy.put(String.valueOf(k), v));
      b.filters(copy);
    }
    if (f.has("total_results")) {
      b.totalResults(f.integer("total_results", 0));
    }
    if (f.has("page_results")) {
      b.pageResults(f.integer("page_results", 0));
    }
    return b.build();
  }

  private static Event transaction(Fields f) {
    EcommerceTransaction.Builder b = common(f, EcommerceTransaction.builder())
        .orderId(f.string("order_id"))
        .totalValue(f.number("total_value"))
        .affiliation(f.string("affiliation"))
        .taxValue(f.number("tax_value"))
        .shipping(f.number("shipping"))
        .city(f.string("city"))
        .state(f.string("state"))
        .country(f.string("country"))
        .currency(f.string("currency"));
    List<Fields> items = f.objects("items");
    if (items != null) {
      for (Fields i : items) {
        b.item(new EcommerceTransaction.Item(
            i.string("sku"), i.number("price"), i.integer("quantity", 1), i.string("name"), i.string("category")));
        i.checkAllUsed();
      }
    }
    return b.build();
  }

  /** Typed access to one object's keys, remembering which were read. */
  private static final class Fields {
    private final String what;
    private final Map<?, ?> map;
    private final Set<String> used = new HashSet<>();

    Fields(String what, Object spec) {
      if (!(spec instanceof Map<?, ?> m)) {
        throw new InvalidEventException(what + " must be an object");
      }
      this.what = what;
      this.map = m;
      used.add("type");
    }

    boolean has(String key) {
      used.add(key);
      return map.get(key) != null;
    }

    Object raw(String key) {
      used.add(key);
      return map.get(key);
    }

    String string(String key) {
      Object v = raw(key);
      if (v == null || v instanceof String) {
        return (String) v;
      }
      throw new InvalidEventException(what + "." + key + " must be a string, got " + v);
    }

    Number number(String key) {
      Object v = raw(key);
      if (v == null || (v instanceof Number && !(v instanceof BigInteger))) {
        return (Number) v;
      }
      if (v instanceof BigInteger big) {
        return new java.math.BigDecimal(big);
      }
      throw new InvalidEventException(what + "." + key + " must be a number, got " + v);
    }

    long longValue(String key) {
      Object v = raw(key);
      if (v instanceof Integer || v instanceof Long || v instanceof Short) {
        return ((Number) v).longValue();
      }
      throw new InvalidEventException(what + "." + key + " must be an integer, got " + v);
    }

    int integer(String key, int fallback) {
      if (!has(key)) {
        return fallback;
      }
      long value = longValue(key);
      if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
        throw new InvalidEventException(what + "." + key + " is out of range: " + value);
      }
      return (int) value;
    }

    List<String> strings(String key) {
      Object v = raw(key);
      if (v == null) {
        return null;
      }
      if (!(v instanceof List<?> list)) {
        throw new InvalidEventException(what + "." + key + " must be a list of strings");
      }
      List<String> out = new ArrayList<>();
      for (Object item : list) {
        if (!(item instanceof String s)) {
          throw new InvalidEventException(what + "." + key + " must be a list of strings");
        }
        out.add(s);
      }
      return out;
    }

    int[] dimensions(String key) {
      Object v = raw(key);
      if (v == null) {
        return null;
      }
      if (v instanceof List<?> list && list.size() == 2
          && list.get(0) instanceof Number w && list.get(1) instanceof Number h) {
        return new int[] {w.intValue(), h.intValue()};
      }
      throw new InvalidEventException(what + "." + key + " must be [width, height]");
    }

    List<Fields> objects(String key) {
      Object v = raw(key);
      if (v == null) {
        return null;
      }
      if (!(v instanceof List<?> list)) {
        throw new InvalidEventException(what + "." + key + " must be a list of objects");
      }
      List<Fields> out = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        out.add(new Fields(what + "." + key + "[" + i + "]", list.get(i)));
      }
      return out;
    }

    void checkAllUsed() {
      for (Object key : map.keySet()) {
        if (!used.contains(String.valueOf(key))) {
          throw new InvalidEventException(what + " has an unknown key '" + key + "'");
        }
      }
    }
  }
}

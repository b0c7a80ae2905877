package dev.plowline.tracker;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An internal site search ({@code site_search/1-0-0}). */
public final class SiteSearch extends SelfDescribingBase {
  static final String SCHEMA = Wire.SNOWPLOW + "site_search/jsonschema/1-0-0";

  private final List<String> terms;
  private final Map<String, Object> filters;
  private final Integer totalResults;
  private final Integer pageResults;

  private SiteSearch(Builder b) {
    super(b);
    this.terms = Checks.list("terms", b.terms);
    if (terms.isEmpty()) {
      throw new InvalidEventException("terms must hold at least one search term");
    }
    if (b.filters != null) {
      for (Map.Entry<String, Object> e : b.filters.entrySet()) {
        if (!(e.getValue() instanceof String) && !(e.getValue() instanceof Boolean)) {
          throw new InvalidEventException("filters['" + e.getKey() + "'] must be a string or a boolean");
        }
      }
      this.filters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.filters));
    } else {
      this.filters = null;
    }
    this.totalResults = b.totalResults == null ? null : Checks.nonNegative("totalResults", b.totalResults);
    this.pageResults = b.pageResults == null ? null : Checks.nonNegative("pageResults", b.pageResults);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SelfDescribingJson toSelfDescribingJson() {
    return new SelfDescribingJson(
        SCHEMA,
        new Data()
            .put("terms", terms)
            .put("filters", filters)
            .put("totalResults", totalResults)
            .put("pageResults", pageResults)
            .build());
  }

  /** Builds a {@link SiteSearch}; at least one term is required. */
  public static final class Builder extends Event.Builder<Builder> {
    private List<String> terms;
    private Map<String, Object> filters;
    private Integer totalResults;
    private Integer pageResults;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder terms(List<String> v) {
      terms = v;
      return this;
    }

    /** Filter names to a string or boolean value. */
    public Builder filters(Map<String, ?> v) {
      filters = v == null ? null : new LinkedHashMap<>(v);
      return this;
    }

    public Builder totalResults(int v) {
      totalResults = v;
      return this;
    }

    public Builder pageResults(int v) {
      pageResults = v;
      return this;
    }

    public SiteSearch build() {
      return new SiteSearch(this);
    }
  }
}

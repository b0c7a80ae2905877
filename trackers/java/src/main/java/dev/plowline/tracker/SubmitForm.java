package dev.plowline.tracker;

import java.util.List;
import java.util.Set;

/** A form was submitted ({@code submit_form/1-0-0}). */
public final class SubmitForm extends SelfDescribingBase {
  static final String SCHEMA = Wire.SNOWPLOW + "submit_form/jsonschema/1-0-0";
  static final Set<String> NODE_NAMES = Set.of("INPUT", "TEXTAREA", "SELECT");

  /** One field of the form; {@code value} may be null. */
  public record Element(String name, String value, String nodeName, String type) {
    public Element {
      Checks.present("elements[].name", name);
      if (nodeName == null || !NODE_NAMES.contains(nodeName)) {
        throw new InvalidEventException(
            "elements[].nodeName must be one of INPUT, TEXTAREA, SELECT, got " + nodeName);
      }
    }

    Object toJson() {
      return new Data()
          .put("name", name)
          .putNullable("value", value)
          .put("nodeName", nodeName)
          .put("type", type)
          .build();
    }
  }

  private final String formId;
  private final List<String> formClasses;
  private final List<Element> elements;

  private SubmitForm(Builder b) {
    super(b);
    this.formId = Checks.present("formId", b.formId);
    this.formClasses = b.formClasses == null ? null : Checks.list("formClasses", b.formClasses);
    this.elements = b.elements == null ? null : Checks.list("elements", b.elements);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SelfDescribingJson toSelfDescribingJson() {
    return new SelfDescribingJson(
        SCHEMA,
        new Data()
            .put("formId", formId)
            .put("formClasses", formClasses)
            .put("elements", elements == null ? null : elements.stream().map(Element::toJson).toList())
            .build());
  }

  /** Builds a {@link SubmitForm}; {@code formId} is required. */
  public static final class Builder extends Event.Builder<Builder> {
    private String formId;
    private List<String> formClasses;
    private List<Element> elements;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    public Builder formId(String v) {
      formId = v;
      return this;
    }

    public Builder formClasses(List<String> v) {
      formClasses = v;
      return this;
    }

    public Builder elements(List<Element> v) {
      elements = v;
      return this;
    }

    public SubmitForm build() {
      return new SubmitForm(this);
    }
  }
}

package dev.plowline.tracker;

import java.util.List;

/**
 * {@link ChangeForm} and {@link FocusForm}: the same fields under two schemas, which name the
 * input type differently ({@code type} vs {@code elementType}); {@code value} may be null.
 */
public abstract sealed class FormFieldEvent extends SelfDescribingBase permits ChangeForm, FocusForm {
  private final String formId;
  private final String elementId;
  private final String nodeName;
  private final String value;
  private final String elementType;
  private final List<String> elementClasses;

  FormFieldEvent(Builder<?> b) {
    super(b);
    this.formId = Checks.present("formId", b.formId);
    this.elementId = Checks.present("elementId", b.elementId);
    if (b.nodeName == null || !SubmitForm.NODE_NAMES.contains(b.nodeName)) {
      throw new InvalidEventException(
          "nodeName must be one of INPUT, TEXTAREA, SELECT, got " + b.nodeName);
    }
    this.nodeName = b.nodeName;
    this.value = b.value;
    this.elementType = b.elementType;
    this.elementClasses = b.elementClasses == null ? null : Checks.list("elementClasses", b.elementClasses);
  }

  abstract String schema();

  abstract String typeKey();

  @Override
  public final SelfDescribingJson toSelfDescribingJson() {
    return new SelfDescribingJson(
        schema(),
        new Data()
            .put("formId", formId)
            .put("elementId", elementId)
            .put("nodeName", nodeName)
            .put(typeKey(), elementType)
            .put("elementClasses", elementClasses)
            .putNullable("value", value)
            .build());
  }

  /** Fields of both form-field events; {@code formId}, {@code elementId}, {@code nodeName} required. */
  public abstract static class Builder<B extends Builder<B>> extends Event.Builder<B> {
    private String formId;
    private String elementId;
    private String nodeName;
    private String value;
    private String elementType;
    private List<String> elementClasses;

    Builder() {}

    public B formId(String v) {
      formId = v;
      return self();
    }

    public B elementId(String v) {
      elementId = v;
      return self();
    }

    /** INPUT, TEXTAREA or SELECT. */
    public B nodeName(String v) {
      nodeName = v;
      return self();
    }

    public B value(String v) {
      value = v;
      return self();
    }

    /** The input type ({@code text}, {@code email}, ...). */
    public B elementType(String v) {
      elementType = v;
      return self();
    }

    public B elementClasses(List<String> v) {
      elementClasses = v;
      return self();
    }
  }
}

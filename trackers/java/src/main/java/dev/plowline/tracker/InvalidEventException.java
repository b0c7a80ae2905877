package dev.plowline.tracker;

/** An event, entity or setting the tracker refuses (a missing required field, a bad schema). */
public final class InvalidEventException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public InvalidEventException(String message) {
    super(message);
  }
}

package dev.plowline.tracker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/** Argument checks shared by events and settings; each throws {@link InvalidEventException}. */
final class Checks {
  private Checks() {}

  static String text(String name, String value) {
    if (value == null || value.isEmpty()) {
      throw new InvalidEventException(name + " is required and must not be empty");
    }
    return value;
  }

  static String present(String name, String value) {
    if (value == null) {
      throw new InvalidEventException(name + " is required");
    }
    return value;
  }

  static <T> T notNull(String name, T value) {
    if (value == null) {
      throw new InvalidEventException(name + " is required");
    }
    return value;
  }

  static Number number(String name, Number value) {
    notNull(name, value);
    double d = value.doubleValue();
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new InvalidEventException(name + " must be a finite number, got " + value);
    }
    return value;
  }

  static String uuid(String name, String value) {
    text(name, value);
    try {
      UUID parsed = UUID.fromString(value);
      if (!parsed.toString().equals(value.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException(value);
      }
    } catch (IllegalArgumentException e) {
      throw new InvalidEventException(name + " must be a UUID, got '" + value + "'");
    }
    return value;
  }

  static <T> List<T> list(String name, Collection<? extends T> values) {
    if (values == null) {
      return List.of();
    }
    List<T> copy = new ArrayList<>(values.size());
    for (T value : values) {
      copy.add(notNull(name + "[]", value));
    }
    return List.copyOf(copy);
  }

  static int nonNegative(String name, int value) {
    if (value < 0) {
      throw new InvalidEventException(name + " must be >= 0, got " + value);
    }
    return value;
  }
}

package dev.plowline.tracker;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Something to track. Every event takes entities ({@link Builder#context}), a true timestamp
 * and its own {@link Subject}; each event type adds its own fields through its builder.
 */
public abstract sealed class Event permits PageView, PagePing, Structured, EcommerceTransaction,
    SelfDescribingBase {
  private final List<SelfDescribingJson> contexts;
  private final Long trueTimestampMs;
  private final Subject subject;

  Event(Builder<?> builder) {
    this.contexts = List.copyOf(builder.contexts);
    this.trueTimestampMs = builder.trueTimestampMs;
    this.subject = builder.subject;
  }

  /** Entities attached to this event. */
  public final List<SelfDescribingJson> contexts() {
    return contexts;
  }

  /** The user-asserted time of the event in milliseconds since the epoch ({@code ttm}). */
  public final OptionalLong trueTimestampMs() {
    return trueTimestampMs == null ? OptionalLong.empty() : OptionalLong.of(trueTimestampMs);
  }

  /** This event's own subject, merged over the tracker's. */
  public final Optional<Subject> subject() {
    return Optional.ofNullable(subject);
  }

  /** The event-specific parameters of each wire event, in order (a transaction has several). */
  abstract List<Map<String, String>> wireEvents(boolean base64);

  /** Fields every event builder has. */
  public abstract static class Builder<B extends Builder<B>> {
    private final List<SelfDescribingJson> contexts = new ArrayList<>();
    private Long trueTimestampMs;
    private Subject subject;

    Builder() {}

    abstract B self();

    /** Attaches one entity. */
    public B context(SelfDescribingJson entity) {
      contexts.add(Checks.notNull("context", entity));
      return self();
    }

    /** Attaches entities. */
    public B contexts(Collection<SelfDescribingJson> entities) {
      for (SelfDescribingJson entity : Checks.notNull("contexts", entities)) {
        context(entity);
      }
      return self();
    }

    /** When the event really happened, in milliseconds since the epoch. */
    public B trueTimestamp(long epochMillis) {
      if (epochMillis < 0) {
        throw new InvalidEventException("trueTimestamp must be >= 0, got " + epochMillis);
      }
      trueTimestampMs = epochMillis;
      return self();
    }

    /** When the event really happened. */
    public B trueTimestamp(Instant when) {
      return trueTimestamp(Checks.notNull("trueTimestamp", when).toEpochMilli());
    }

    /** A subject for this event only (its fields win over the tracker's). */
    public B subject(Subject value) {
      subject = value;
      return self();
    }
  }
}

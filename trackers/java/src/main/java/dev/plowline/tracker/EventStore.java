package dev.plowline.tracker;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Where the emitter keeps events until the collector accepts them. Implementations are
 * thread-safe and keep events in the order they were added.
 */
public interface EventStore extends AutoCloseable {
  /** Stores an event and returns its key (keys grow with each add). */
  long add(Map<String, String> payload);

  /** Up to {@code max} of the oldest events, oldest first. */
  List<StoredEvent> peek(int max);

  /** Forgets these events (unknown keys are ignored). */
  void remove(Collection<Long> keys);

  /** How many events are stored. */
  int size();

  /** Whether events outlive this store object (a new store on the same file sees them). */
  boolean persistent();

  @Override
  void close();

  /**
   * An event and its key.
   *
   * @param key the store's key
   * @param payload the wire parameters, without {@code stm}
   */
  record StoredEvent(long key, Map<String, String> payload) {}
}

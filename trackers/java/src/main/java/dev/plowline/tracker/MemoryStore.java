package dev.plowline.tracker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Keeps events in memory: they are lost when the process ends. */
public final class MemoryStore implements EventStore {
  private final ArrayDeque<StoredEvent> events = new ArrayDeque<>();
  private long nextKey;

  @Override
  public synchronized long add(Map<String, String> payload) {
    long key = nextKey++;
    events.addLast(new StoredEvent(key, payload));
    return key;
  }

  @Override
  public synchronized List<StoredEvent> peek(int max) {
    List<StoredEvent> out = new ArrayList<>(Math.min(max, events.size()));
    Iterator<StoredEvent> it = events.iterator();
    while (out.size() < max && it.hasNext()) {
      out.add(it.next());
    }
    return out;
  }

  @Override
  public synchronized void remove(Collection<Long> keys) {
    if (keys.isEmpty()) {
      return;
    }
    if (keys.size() == 1 || (!events.isEmpty() && events.peekFirst().key() == keys.iterator().next())) {
      // The usual case: the oldest events were delivered.
      Set<Long> wanted = new HashSet<>(keys);
      while (!events.isEmpty() && wanted.remove(events.peekFirst().key())) {
        events.removeFirst();
      }
      if (wanted.isEmpty()) {
        return;
      }
      events.removeIf(e -> wanted.contains(e.key()));
      return;
    }
    Set<Long> wanted = new HashSet<>(keys);
    events.removeIf(e -> wanted.contains(e.key()));
  }

  @Override
  public synchronized int size() {
    return events.size();
  }

  @Override
  public boolean persistent() {
    return false;
  }

  @Override
  public void close() {}
}

package dev.plowline.tracker;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sends tracked events to a collector from one daemon thread: GET ({@code /i}, one event per
 * request) or POST ({@code /com.snowplowanalytics.snowplow/tp2}, payload_data 1-0-4 batches
 * split by a byte limit), with the retry rules of a {@link RetryPolicy}.
 *
 * <p>A send cycle starts when {@code batchSize} events are queued, on {@link #flush}, or on the
 * optional timer. Only a 2xx answer delivers; events keep their {@code eid} across attempts and
 * get a fresh {@code stm} at each. The queue is bounded: when full, the oldest event that is not
 * being sent makes room ({@link Overflow#DROP_OLDEST}, the default) or the new one is refused
 * ({@link Overflow#REJECT_NEWEST}); either way the dropped event goes to the failure callback.
 */
public final class Emitter implements AutoCloseable {
  /** The collector paths Snowplow trackers use. */
  public static final String GET_PATH = "/i";

  public static final String POST_PATH = "/com.snowplowanalytics.snowplow/tp2";

  private static final Logger LOG = Logger.getLogger("dev.plowline.tracker");
  private static final byte[] PREFIX =
      ("{\"schema\":\"" + Wire.PAYLOAD_DATA_SCHEMA + "\",\"data\":[").getBytes(StandardCharsets.UTF_8);
  private static final byte[] SUFFIX = "]}".getBytes(StandardCharsets.UTF_8);

  /** GET or POST. */
  public enum Method {
    GET,
    POST
  }

  /** What a full queue does with a new event. */
  public enum Overflow {
    /** Drop the oldest event not being sent (to the failure callback) and queue the new one. */
    DROP_OLDEST,
    /** Refuse the new event (to the failure callback). */
    REJECT_NEWEST
  }

  private final URI endpoint;
  private final Method method;
  private final int batchSize;
  private final int byteLimit;
  private final RetryPolicy retry;
  private final EventStore store;
  private final int capacity;
  private final Overflow overflow;
  private final Map<String, String> headers;
  private final EmitterCallback callback;
  private final long flushIntervalMs;
  private final String getPath;
  private final String postPath;
  private final Transport transport;
  private final LongSupplier clock;
  private final DoubleSupplier random;
  private final Duration closeTimeout;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Set<Long> inFlight = new HashSet<>();
  private final Thread worker;
  private long flushRequested;
  private long flushCompleted;
  private boolean lastCycleDelivered = true;
  private boolean added;
  private boolean closing;
  private volatile boolean aborted;

  private Emitter(Builder b) {
    this.endpoint = stripSlash(b.endpoint);
    this.method = b.method;
    this.batchSize = positive("batchSize", b.batchSize);
    this.byteLimit = b.byteLimit;
    if (byteLimit < 200) {
      throw new IllegalArgumentException("byteLimit must be >= 200, got " + byteLimit);
    }
    this.retry = b.retry;
    this.store = b.store != null ? b.store : new MemoryStore();
    this.capacity = positive("bufferCapacity", b.capacity);
    this.overflow = b.overflow;
    Map<String, String> h = new LinkedHashMap<>(b.headers);
    if (b.serverAnonymisation) {
      h.put("SP-Anonymous", "*");
    }
    this.headers = Map.copyOf(h);
    this.callback = b.callback;
    this.flushIntervalMs = b.flushInterval.toMillis();
    this.getPath = path("getPath", b.getPath);
    this.postPath = path("postPath", b.postPath);
    this.transport = b.transport != null ? b.transport : new JdkHttpTransport(b.requestTimeout);
    this.clock = b.clock;
    this.random = b.random;
    this.closeTimeout = b.closeTimeout;
    this.worker = new Thread(this::run, "plowline-emitter");
    worker.setDaemon(true);
    worker.start();
  }

  private static URI stripSlash(URI uri) {
    if (uri == null || uri.getScheme() == null || uri.getHost() == null) {
      throw new IllegalArgumentException("endpoint must be an absolute http(s) URI, got " + uri);
    }
    String text = uri.toString();
    return text.endsWith("/") ? URI.create(text.substring(0, text.length() - 1)) : uri;
  }

  private static int positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
    return value;
  }

  private static String path(String name, String value) {
    if (value == null || !value.startsWith("/")) {
      throw new IllegalArgumentException(name + " must start with '/', got " + value);
    }
    return value;
  }

  /** A builder for an emitter sending to {@code endpoint} (e.g. {@code https://c.example.com}). */
  public static Builder builder(String endpoint) {
    return new Builder(URI.create(endpoint));
  }

  /** A builder for an emitter sending to {@code endpoint}. */
  public static Builder builder(URI endpoint) {
    return new Builder(endpoint);
  }

  /** How many events wait to be delivered. */
  public int queued() {
    return store.size();
  }

  /** Queues one event's wire parameters (without {@code stm}). */
  public void add(Map<String, String> payload) {
    Failure dropped = null;
    lock.lock();
    try {
      if (closing) {
        dropped = failure(Failure.Reason.CLOSED, List.of(payload), "the emitter is closed");
      } else {
        if (store.size() >= capacity) {
          dropped = makeRoom(payload);
        }
        if (dropped == null || overflow == Overflow.DROP_OLDEST) {
          store.add(payload);
          added = true;
          if (store.size() >= batchSize) {
            changed.signalAll();
          }
        }
      }
    } finally {
      lock.unlock();
    }
    if (dropped != null) {
      notifyFailure(dropped);
    }
  }

  /** Under the lock, with the queue full: the failure for the event that gives way. */
  private Failure makeRoom(Map<String, String> incoming) {
    if (overflow == Overflow.REJECT_NEWEST) {
      return failure(Failure.Reason.QUEUE_FULL, List.of(incoming), "queue full: new event refused");
    }
    for (EventStore.StoredEvent oldest : store.peek(inFlight.size() + 1)) {
      if (!inFlight.contains(oldest.key())) {
        store.remove(List.of(oldest.key()));
        return failure(
            Failure.Reason.QUEUE_FULL, List.of(oldest.payload()), "queue full: oldest event dropped");
      }
    }
    return null; // every queued event is being sent: the queue grows by one this once
  }

  /**
   * Sends everything queued, waiting up to {@code timeout}; true when the queue is empty after a
   * send cycle that started after this call (false on time-out or undelivered events). The cycle
   * includes its requests' retries (back-off and Retry-After waits); after {@code maxAttempts}
   * failed attempts it ends and the events stay queued. Returns false at once when called from
   * a callback (on the emitter's own thread).
   */
  public boolean flush(Duration timeout) {
    if (Thread.currentThread() == worker) {
      return false; // from a callback: the cycle it would wait for cannot start until it returns
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      if (aborted) {
        return store.size() == 0;
      }
      long ticket = ++flushRequested;
      changed.signalAll();
      while (flushCompleted < ticket) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || aborted) {
          return false;
        }
        changed.awaitNanos(left);
      }
      return lastCycleDelivered && store.size() == 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      lock.unlock();
    }
  }

  /** {@link #close(Duration)} with the builder's close timeout (5 s by default). */
  @Override
  public void close() {
    close(closeTimeout);
  }

  /**
   * Sends what is queued for up to {@code timeout}, then starts no further request, stops the
   * worker and closes the store. Events still queued stay in a persistent store; a memory store's
   * go to the failure callback ({@link Failure.Reason#CLOSED}).
   */
  public void close(Duration timeout) {
    lock.lock();
    try {
      if (closing) {
        return;
      }
      closing = true;
    } finally {
      lock.unlock();
    }
    if (!timeout.isZero() && !timeout.isNegative()) {
      flush(timeout);
    }
    lock.lock();
    try {
      aborted = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    worker.interrupt();
    try {
      worker.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    int left = store.size();
    if (left > 0 && !store.persistent()) {
      List<Map<String, String>> unsent = new ArrayList<>();
      store.peek(left).forEach(e -> unsent.add(e.payload()));
      notifyFailure(failure(Failure.Reason.CLOSED, unsent, "closed before these events were sent"));
    }
    store.close();
  }

  // -- the worker ---------------------------------------------------------------------------

  private void run() {
    long nextTimer = flushIntervalMs > 0 ? System.currentTimeMillis() + flushIntervalMs : Long.MAX_VALUE;
    while (true) {
      long target;
      boolean everything;
      lock.lock();
      try {
        while (true) {
          if (aborted) {
            return;
          }
          if (flushRequested > flushCompleted) {
            everything = true;
            break;
          }
          if (added && store.size() >= batchSize) {
            everything = false;
            break;
          }
          long now = System.currentTimeMillis();
          if (now >= nextTimer) {
            everything = true;
            break;
          }
          long waitMs = nextTimer == Long.MAX_VALUE ? TimeUnit.HOURS.toMillis(1) : nextTimer - now;
          changed.await(waitMs, TimeUnit.MILLISECONDS);
        }
        target = flushRequested;
        added = false;
      } catch (InterruptedException e) {
        return;
      } finally {
        lock.unlock();
      }
      boolean delivered;
      try {
        delivered = cycle(everything);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "send cycle failed", e);
        delivered = false;
      }
      if (flushIntervalMs > 0) {
        nextTimer = System.currentTimeMillis() + flushIntervalMs;
      }
      lock.lock();
      try {
        inFlight.clear();
        if (target > flushCompleted) {
          flushCompleted = target;
          lastCycleDelivered = delivered;
        }
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /** Sends full batches (or everything); true when all it set out to send was delivered. */
  private boolean cycle(boolean everything) {
    while (!aborted) {
      List<EventStore.StoredEvent> events;
      lock.lock();
      try {
        int pending = store.size();
        if (pending == 0 || (!everything && pending < batchSize)) {
          return true;
        }
        events = store.peek(batchSize);
        inFlight.clear();
        events.forEach(e -> inFlight.add(e.key()));
      } finally {
        lock.unlock();
      }
      String stm = Long.toString(clock.getAsLong());
      List<Batch> batches = method == Method.GET ? singles(events) : split(events, stm);
      for (Batch batch : batches) {
        if (!deliver(batch)) {
          return false;
        }
      }
    }
    return false;
  }

  /** The events one request carries; {@code heads} is each POST event's JSON without its '}'. */
  private record Batch(List<EventStore.StoredEvent> events, List<byte[]> heads) {
    List<Long> keys() {
      return events.stream().map(EventStore.StoredEvent::key).toList();
    }

    List<Map<String, String>> payloads() {
      return events.stream().map(EventStore.StoredEvent::payload).toList();
    }
  }

  private static List<Batch> singles(List<EventStore.StoredEvent> events) {
    List<Batch> out = new ArrayList<>(events.size());
    for (EventStore.StoredEvent event : events) {
      out.add(new Batch(List.of(event), List.of()));
    }
    return out;
  }

  /** Groups events in order into POST bodies of at most byteLimit bytes; reports oversized ones. */
  private List<Batch> split(List<EventStore.StoredEvent> events, String stm) {
    int tail = tail(stm).length;
    int envelope = PREFIX.length + SUFFIX.length;
    List<Batch> out = new ArrayList<>();
    List<EventStore.StoredEvent> current = new ArrayList<>();
    List<byte[]> heads = new ArrayList<>();
    int size = envelope;
    for (EventStore.StoredEvent event : events) {
      byte[] head = head(event.payload());
      int eventSize = head.length + tail;
      if (envelope + eventSize > byteLimit) {
        store.remove(List.of(event.key()));
        notifyFailure(
            failure(
                Failure.Reason.OVERSIZED,
                List.of(event.payload()),
                "event of " + (envelope + eventSize) + " bytes exceeds the POST limit of " + byteLimit));
        continue;
      }
      int added = current.isEmpty() ? eventSize : eventSize + 1;
      if (!current.isEmpty() && size + added > byteLimit) {
        out.add(new Batch(List.copyOf(current), List.copyOf(heads)));
        current.clear();
        heads.clear();
        size = envelope;
        added = eventSize;
      }
      current.add(event);
      heads.add(head);
      size += added;
    }
    if (!current.isEmpty()) {
      out.add(new Batch(List.copyOf(current), List.copyOf(heads)));
    }
    return out;
  }

  private static byte[] head(Map<String, String> payload) {
    Map<String, String> copy = payload;
    if (payload.containsKey("stm")) {
      copy = new LinkedHashMap<>(payload);
      copy.remove("stm");
    }
    String json = Json.write(copy);
    return json.substring(0, json.length() - 1).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] tail(String stm) {
    return (",\"stm\":\"" + stm + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  static byte[] postBody(List<byte[]> heads, String stm) {
    byte[] tail = tail(stm);
    int size = PREFIX.length + SUFFIX.length + heads.size() - 1;
    for (byte[] head : heads) {
      size += head.length + tail.length;
    }
    byte[] body = new byte[size];
    int at = 0;
    System.arraycopy(PREFIX, 0, body, at, PREFIX.length);
    at += PREFIX.length;
    for (int i = 0; i < heads.size(); i++) {
      if (i > 0) {
        body[at++] = ',';
      }
      byte[] head = heads.get(i);
      System.arraycopy(head, 0, body, at, head.length);
      at += head.length;
      System.arraycopy(tail, 0, body, at, tail.length);
      at += tail.length;
    }
    System.arraycopy(SUFFIX, 0, body, at, SUFFIX.length);
    return body;
  }

  static String queryString(Map<String, String> payload, String stm) {
    StringBuilder q = new StringBuilder(256);
    for (Map.Entry<String, String> e : payload.entrySet()) {
      if (e.getKey().equals("stm")) {
        continue;
      }
      q.append(q.length() == 0 ? "" : "&")
          .append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
    }
    return q.append(q.length() == 0 ? "" : "&").append("stm=").append(stm).toString();
  }

  private Transport.Request request(Batch batch) {
    String stm = Long.toString(clock.getAsLong()); // stamped at each attempt
    if (method == Method.GET) {
      URI uri = URI.create(endpoint + getPath + "?" + queryString(batch.events().get(0).payload(), stm));
      return new Transport.Request("GET", uri, headers, null);
    }
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put("Content-Type", "application/json; charset=utf-8");
    return new Transport.Request("POST", URI.create(endpoint + postPath), h, postBody(batch.heads(), stm));
  }

  /** One request with its retries; false when it is still undelivered (ends the cycle). */
  private boolean deliver(Batch batch) {
    int failures = 0;
    while (true) {
      if (aborted) {
        return false;
      }
      OptionalInt status = OptionalInt.empty();
      String retryAfter = null;
      String reason;
      try {
        Transport.Response response = transport.send(request(batch));
        int code = response.status();
        if (code >= 200 && code < 300) {
          store.remove(batch.keys());
          notifySuccess(batch.payloads());
          return true;
        }
        status = OptionalInt.of(code);
        retryAfter = response.retryAfter();
        reason = "HTTP " + code;
        if (!retry.retryable(code)) {
          store.remove(batch.keys());
          notifyFailure(new Failure(Failure.Reason.REJECTED, batch.payloads(), status, false, reason));
          return true;
        }
      } catch (InterruptedException e) {
        return false; // closing
      } catch (java.io.IOException | RuntimeException e) {
        if (aborted) {
          return false;
        }
        reason = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      }
      failures++;
      String why = reason;
      LOG.log(Level.FINE, () -> String.format(Locale.ROOT, "attempt failed (%s)", why));
      if (failures >= retry.maxAttempts()) {
        notifyFailure(new Failure(Failure.Reason.RETRIES_EXHAUSTED, batch.payloads(), status, true,
            reason + " after " + failures + " attempts"));
        return false;
      }
      long wait = retry.waitMillis(failures, random.getAsDouble(), retryAfter, System.currentTimeMillis());
      if (!pause(wait)) {
        return false;
      }
    }
  }

  /** Waits {@code millis} unless the emitter aborts first (then false). */
  private boolean pause(long millis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    lock.lock();
    try {
      while (!aborted) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return true;
        }
        changed.awaitNanos(left);
      }
      return false;
    } catch (InterruptedException e) {
      return false;
    } finally {
      lock.unlock();
    }
  }

  private static Failure failure(Failure.Reason reason, List<Map<String, String>> payloads, String message) {
    return new Failure(reason, payloads, OptionalInt.empty(), false, message);
  }

  private void notifySuccess(List<Map<String, String>> payloads) {
    if (callback != null) {
      try {
        callback.onSuccess(payloads);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "onSuccess callback threw", e);
      }
    }
  }

  private void notifyFailure(Failure failure) {
    if (!failure.willRetry()) {
      LOG.log(Level.WARNING, () -> "dropped " + failure.payloads().size() + " events: " + failure.message());
    }
    if (callback != null) {
      try {
        callback.onFailure(failure);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "onFailure callback threw", e);
      }
    }
  }

  /** Builds an {@link Emitter}. */
  public static final class Builder {
    private final URI endpoint;
    private Method method = Method.POST;
    private int batchSize = 10;
    private int byteLimit = 256_000;
    private RetryPolicy retry = RetryPolicy.DEFAULT;
    private EventStore store;
    private int capacity = 10_000;
    private Overflow overflow = Overflow.DROP_OLDEST;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private boolean serverAnonymisation;
    private EmitterCallback callback;
    private Duration flushInterval = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(10);
    private Duration closeTimeout = Duration.ofSeconds(5);
    private String getPath = GET_PATH;
    private String postPath = POST_PATH;
    private Transport transport;
    private LongSupplier clock = System::currentTimeMillis;
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

    private Builder(URI endpoint) {
      this.endpoint = endpoint;
    }

    /** GET or POST (the default). */
    public Builder method(Method v) {
      method = v;
      return this;
    }

    /** Events per POST request, and how many queued events start a send (default 10). */
    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    /** The largest POST body in bytes (default 256 000); a larger event alone is refused. */
    public Builder byteLimit(int v) {
      byteLimit = v;
      return this;
    }

    public Builder retry(RetryPolicy v) {
      retry = v;
      return this;
    }

    /** Where events wait (default: memory); {@link FileJournalStore} keeps them across restarts. */
    public Builder store(EventStore v) {
      store = v;
      return this;
    }

    /** The most events queued at once (default 10 000), and what a full queue does. */
    public Builder bufferCapacity(int v, Overflow onOverflow) {
      capacity = v;
      overflow = onOverflow;
      return this;
    }

    /** A header sent with every request. */
    public Builder header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    /** Sends {@code SP-Anonymous}: the collector then records no IP address and no cookie id. */
    public Builder serverAnonymisation(boolean v) {
      serverAnonymisation = v;
      return this;
    }

    public Builder callback(EmitterCallback v) {
      callback = v;
      return this;
    }

    /** Sends what is queued this often (default 10 s); {@link Duration#ZERO} for no timer. */
    public Builder flushInterval(Duration v) {
      flushInterval = v;
      return this;
    }

    /** Gives up on one HTTP exchange after this long (default 10 s); retried like a 5xx. */
    public Builder requestTimeout(Duration v) {
      requestTimeout = v;
      return this;
    }

    /** How long {@link #close()} sends what is queued (default 5 s). */
    public Builder closeTimeout(Duration v) {
      closeTimeout = v;
      return this;
    }

    public Builder getPath(String v) {
      getPath = v;
      return this;
    }

    public Builder postPath(String v) {
      postPath = v;
      return this;
    }

    /** The HTTP client (default: {@link JdkHttpTransport}). */
    public Builder transport(Transport v) {
      transport = v;
      return this;
    }

    /** The clock for {@code stm}, in ms since the epoch (for tests). */
    public Builder clock(LongSupplier v) {
      clock = v;
      return this;
    }

    /** Uniform [0, 1) numbers for the back-off jitter (for tests). */
    public Builder random(DoubleSupplier v) {
      random = v;
      return this;
    }

    public Emitter build() {
      return new Emitter(this);
    }
  }
}

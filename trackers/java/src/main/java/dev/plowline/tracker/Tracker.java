package dev.plowline.tracker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns events into tracker-protocol payloads and hands them to an {@link Emitter}.
 *
 * <pre>{@code
 * try (Tracker tracker = Tracker.builder("ns", "my-app", Emitter.builder("https://c.example.com").build()).build()) {
 *   tracker.track(PageView.builder().pageUrl("https://a.example/").build());
 * }
 * }</pre>
 *
 * <p>{@link #track} is thread-safe, does no I/O but the store's append, and returns the event
 * ids; closing the tracker closes its emitter.
 */
public final class Tracker implements AutoCloseable {
  /** This library's version. */
  public static final String VERSION = "0.1.0";

  /** The {@code tv} value sent with every event. */
  public static final String TRACKER_VERSION = "java-plowline-" + VERSION;

  private static final Logger LOG = Logger.getLogger("dev.plowline.tracker");
  private static final Set<String> PLATFORMS =
      Set.of("web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot", "headset");

  private final Emitter emitter;
  private final String namespace;
  private final String appId;
  private final String platform;
  private final boolean base64;
  private final Subject subject;
  private final LongSupplier clock;
  private final Supplier<String> eventIds;
  private final List<SelfDescribingJson> globalContexts;
  private final List<ContextGenerator> generators;
  private final boolean anonymous;

  /** Entities computed for each event (e.g. from a request scope); called on the tracking thread. */
  @FunctionalInterface
  public interface ContextGenerator {
    List<SelfDescribingJson> contexts(Event event);
  }

  private Tracker(Builder b) {
    this.emitter = Checks.notNull("emitter", b.emitter);
    this.namespace = b.namespace;
    this.appId = b.appId;
    if (!PLATFORMS.contains(b.platform)) {
      throw new InvalidEventException("platform must be one of " + PLATFORMS + ", got " + b.platform);
    }
    this.platform = b.platform;
    this.base64 = b.base64;
    this.subject = b.subject;
    this.clock = b.clock;
    this.eventIds = b.eventIds;
    this.globalContexts = List.copyOf(b.globalContexts);
    this.generators = List.copyOf(b.generators);
    this.anonymous = b.anonymous;
  }

  /** A builder; {@code namespace} and {@code appId} may be null (then not sent). */
  public static Builder builder(String namespace, String appId, Emitter emitter) {
    return new Builder(namespace, appId, emitter);
  }

  /**
   * Tracks an event and returns the id of each wire event it produced, in order: one, or for a
   * transaction one plus one per item.
   */
  public List<String> track(Event event) {
    return track(event, null);
  }

  /** Tracks an event with an extra subject for this call (over the tracker's and the event's). */
  public List<String> track(Event event, Subject extra) {
    Checks.notNull("event", event);
    List<Map<String, String>> wire = event.wireEvents(base64);
    List<SelfDescribingJson> entities = entities(event);
    Subject who = subject.merge(event.subject().orElse(null)).merge(extra);
    if (anonymous) {
      who = who.anonymised();
    }
    String dtm = Long.toString(clock.getAsLong());
    List<Map<String, String>> payloads = new ArrayList<>(wire.size());
    List<String> ids = new ArrayList<>(wire.size());
    for (Map<String, String> params : wire) {
      String eid = eventIds.get();
      Map<String, String> p = new LinkedHashMap<>(params.size() + 16);
      p.putAll(params);
      p.put("eid", eid);
      p.put("tv", TRACKER_VERSION);
      Wire.put(p, "tna", namespace);
      Wire.put(p, "aid", appId);
      p.put("p", platform);
      p.put("dtm", dtm);
      event.trueTimestampMs().ifPresent(ttm -> p.put("ttm", Long.toString(ttm)));
      who.addTo(p);
      Wire.putContexts(p, entities, base64);
      payloads.add(p);
      ids.add(eid);
    }
    for (Map<String, String> p : payloads) {
      emitter.add(p);
    }
    return ids;
  }

  private List<SelfDescribingJson> entities(Event event) {
    if (globalContexts.isEmpty() && generators.isEmpty()) {
      return event.contexts();
    }
    List<SelfDescribingJson> all = new ArrayList<>(event.contexts());
    all.addAll(globalContexts);
    for (ContextGenerator generator : generators) {
      try {
        List<SelfDescribingJson> generated = generator.contexts(event);
        if (generated != null) {
          generated.forEach(c -> all.add(Checks.notNull("generated context", c)));
        }
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "a context generator threw; its entities are left out", e);
      }
    }
    return all;
  }

  /** The emitter this tracker sends through. */
  public Emitter emitter() {
    return emitter;
  }

  /** Sends everything queued; see {@link Emitter#flush}. */
  public boolean flush(Duration timeout) {
    return emitter.flush(timeout);
  }

  /** Closes the emitter (sending what is queued for its close timeout). */
  @Override
  public void close() {
    emitter.close();
  }

  /** Closes the emitter, sending what is queued for up to {@code timeout}. */
  public void close(Duration timeout) {
    emitter.close(timeout);
  }

  /** Builds a {@link Tracker}. */
  public static final class Builder {
    private final String namespace;
    private final String appId;
    private final Emitter emitter;
    private String platform = "srv";
    private boolean base64 = true;
    private Subject subject = Subject.NONE;
    private LongSupplier clock = System::currentTimeMillis;
    private Supplier<String> eventIds = () -> UUID.randomUUID().toString();
    private final List<SelfDescribingJson> globalContexts = new ArrayList<>();
    private final List<ContextGenerator> generators = new ArrayList<>();
    private boolean anonymous;

    private Builder(String namespace, String appId, Emitter emitter) {
      this.namespace = namespace;
      this.appId = appId;
      this.emitter = emitter;
    }

    /** {@code p}: web, mob, pc, srv (the default), app, tv, cnsl, iot or headset. */
    public Builder platform(String v) {
      platform = v;
      return this;
    }

    /** Base64url-encode JSON parameters ({@code cx}, {@code ue_px}; the default) or not. */
    public Builder base64(boolean v) {
      base64 = v;
      return this;
    }

    public Builder subject(Subject v) {
      subject = v == null ? Subject.NONE : v;
      return this;
    }

    /** An entity attached to every event. */
    public Builder globalContext(SelfDescribingJson v) {
      globalContexts.add(Checks.notNull("globalContext", v));
      return this;
    }

    /** Entities computed for every event. */
    public Builder contextGenerator(ContextGenerator v) {
      generators.add(Checks.notNull("contextGenerator", v));
      return this;
    }

    /** Leaves out the user, cookie, network, session ids and the IP address of every event. */
    public Builder anonymousTracking(boolean v) {
      anonymous = v;
      return this;
    }

    /** The clock for {@code dtm}, in ms since the epoch (for tests). */
    public Builder clock(LongSupplier v) {
      clock = Checks.notNull("clock", v);
      return this;
    }

    /** Where event ids come from (default: random UUIDs). */
    public Builder eventIds(Supplier<String> v) {
      eventIds = Checks.notNull("eventIds", v);
      return this;
    }

    public Tracker build() {
      return new Tracker(this);
    }
  }
}

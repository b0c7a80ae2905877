package tracker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// Version is this tracker's version; the wire tv is TrackerVersion.
const Version = "0.1.0"

// TrackerVersion is sent as tv on every event.
const TrackerVersion = "plowline-go-" + Version

// Payload is one wire event: protocol parameter names to string values.
type Payload map[string]string

// Platform is the p parameter.
type Platform string

// The platforms the protocol knows.
const (
	PlatformWeb     Platform = "web"
	PlatformMobile  Platform = "mob"
	PlatformDesktop Platform = "pc"
	PlatformServer  Platform = "srv"
	PlatformApp     Platform = "app"
	PlatformTV      Platform = "tv"
	PlatformConsole Platform = "cnsl"
	PlatformIoT     Platform = "iot"
	PlatformHeadset Platform = "headset"
)

var platforms = map[Platform]bool{PlatformWeb: true, PlatformMobile: true, PlatformDesktop: true,
	PlatformServer: true, PlatformApp: true, PlatformTV: true, PlatformConsole: true,
	PlatformIoT: true, PlatformHeadset: true}

// EventInfo tells a context generator which event it is generating entities for.
type EventInfo struct {
	// Type is the wire e ("pv", "se", "ue", "tr", "ti", ...).
	Type string
	// Schema is the self-describing event's schema for e=ue, else "".
	Schema string
}

// ContextGenerator returns entities to attach to one event (global contexts, generated).
type ContextGenerator func(EventInfo) []SelfDescribingJSON

// Tracker builds events and hands them to its [Emitter]. It is safe for concurrent use.
type Tracker struct {
	emitter    *Emitter
	namespace  string
	appID      string
	platform   Platform
	base64     bool
	anonymous  bool
	clock      func() time.Time
	newID      func() string
	mu         sync.RWMutex
	subject    Subject
	global     []SelfDescribingJSON
	generators []ContextGenerator
}

// Option configures a [Tracker].
type Option func(*Tracker) error

// WithNamespace sets tna, the tracker's namespace.
func WithNamespace(ns string) Option {
	return func(t *Tracker) error { t.namespace = ns; return checkText("namespace", ns) }
}

// WithAppID sets aid.
func WithAppID(id string) Option {
	return func(t *Tracker) error { t.appID = id; return checkText("app id", id) }
}

// WithPlatform sets p (default [PlatformServer]).
func WithPlatform(p Platform) Option {
	return func(t *Tracker) error {
		if !platforms[p] {
			return badConfig("platform %q is not one of the protocol's platforms", p)
		}
		t.platform = p
		return nil
	}
}

// WithBase64 chooses base64url JSON parameters (cx, ue_px; the default) or plain JSON
// (co, ue_pr).
func WithBase64(on bool) Option {
	return func(t *Tracker) error { t.base64 = on; return nil }
}

// WithSubject sets the subject sent with every event.
func WithSubject(s Subject) Option {
	return func(t *Tracker) error { t.subject = s; return s.validate() }
}

// WithClock replaces the clock that stamps dtm (tests, replays). Give the emitter the same
// clock ([WithEmitterClock]) to stamp stm from it too.
func WithClock(now func() time.Time) Option {
	return func(t *Tracker) error { t.clock = now; return nil }
}

// WithEventIDFactory replaces the random UUID v4 event ids (tests, replays). The factory must
// return UUIDs.
func WithEventIDFactory(next func() string) Option {
	return func(t *Tracker) error { t.newID = next; return nil }
}

// WithGlobalContexts attaches these entities to every event (static global contexts).
func WithGlobalContexts(entities ...SelfDescribingJSON) Option {
	return func(t *Tracker) error {
		for _, c := range entities {
			if err := c.validate("global context"); err != nil {
				return err
			}
		}
		t.global = append(t.global, entities...)
		return nil
	}
}

// WithContextGenerator attaches the entities g returns to every event (generated global
// contexts); g runs on the track call's goroutine.
func WithContextGenerator(g ContextGenerator) Option {
	return func(t *Tracker) error { t.generators = append(t.generators, g); return nil }
}

// WithAnonymousTracking leaves every user and session identifier out of every event (uid,
// duid, tnuid, ip, sid, vid). Pair it with the emitter's [WithServerAnonymisation] so the
// collector does not record the IP address and cookie either.
func WithAnonymousTracking() Option {
	return func(t *Tracker) error { t.anonymous = true; return nil }
}

// New returns a tracker that sends through e.
func New(e *Emitter, opts ...Option) (*Tracker, error) {
	if e == nil {
		return nil, badConfig("an emitter is required")
	}
	t := &Tracker{emitter: e, platform: PlatformServer, base64: true, clock: time.Now, newID: NewEventID}
	for _, o := range opts {
		if err := o(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// NewEventID returns a random (version 4) UUID.
func NewEventID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("tracker: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// SetSubject replaces the tracker's subject.
func (t *Tracker) SetSubject(s Subject) error {
	if err := s.validate(); err != nil {
		return err
	}
	t.mu.Lock()
	t.subject = s
	t.mu.Unlock()
	return nil
}

// AddGlobalContexts attaches more entities to every later event.
func (t *Tracker) AddGlobalContexts(entities ...SelfDescribingJSON) error {
	for _, c := range entities {
		if err := c.validate("global context"); err != nil {
			return err
		}
	}
	t.mu.Lock()
	t.global = append(append([]SelfDescribingJSON(nil), t.global...), entities...)
	t.mu.Unlock()
	return nil
}

// ClearGlobalContexts removes every static and generated global context.
func (t *Tracker) ClearGlobalContexts() {
	t.mu.Lock()
	t.global, t.generators = nil, nil
	t.mu.Unlock()
}

// TrackOption adds per-call data to a track call.
type TrackOption func(*trackConfig)

type trackConfig struct {
	contexts []SelfDescribingJSON
	ttm      *time.Time
	subject  *Subject
}

// WithContexts attaches entities to this event (to each wire event of a transaction).
func WithContexts(entities ...SelfDescribingJSON) TrackOption {
	return func(c *trackConfig) { c.contexts = append(c.contexts, entities...) }
}

// WithTrueTimestamp sends ttm, the time the event really happened (e.g. for a replay).
func WithTrueTimestamp(at time.Time) TrackOption {
	return func(c *trackConfig) { c.ttm = &at }
}

// WithEventSubject adds subject fields for this event over the tracker's subject.
func WithEventSubject(s Subject) TrackOption {
	return func(c *trackConfig) { c.subject = &s }
}

// Track validates ev, turns it into wire events and queues them. It returns the event id of
// each wire event (one, or for a transaction one plus one per item), in order. An invalid
// event returns an error wrapping [ErrInvalidEvent] and nothing is queued.
func (t *Tracker) Track(ev Event, opts ...TrackOption) ([]string, error) {
	payloads, err := t.Payloads(ev, opts...)
	if err != nil {
		return nil, err
	}
	if err := t.emitter.add(payloads); err != nil {
		return nil, err
	}
	ids := make([]string, len(payloads))
	for i, p := range payloads {
		ids[i] = p["eid"]
	}
	return ids, nil
}

// Payloads builds the wire events of ev exactly as Track would, without queuing them (for
// tests and tools). Each call draws new event ids.
func (t *Tracker) Payloads(ev Event, opts ...TrackOption) ([]Payload, error) {
	if ev == nil {
		return nil, invalid("event is nil")
	}
	var cfg trackConfig
	for _, o := range opts {
		o(&cfg)
	}
	for _, c := range cfg.contexts {
		if err := c.validate("context"); err != nil {
			return nil, err
		}
	}
	if cfg.subject != nil {
		if err := cfg.subject.validate(); err != nil {
			return nil, err
		}
	}
	if cfg.ttm != nil && cfg.ttm.UnixMilli() < 0 {
		return nil, invalid("true timestamp must not be before 1970")
	}
	wire, err := ev.build()
	if err != nil {
		return nil, err
	}
	t.mu.RLock()
	subject := t.subject.over(cfg.subject)
	global, generators := t.global, t.generators
	t.mu.RUnlock()
	if t.anonymous {
		subject = subject.anonymous()
	}
	dtm := strconv.FormatInt(t.clock().UnixMilli(), 10)
	out := make([]Payload, 0, len(wire))
	for _, w := range wire {
		p := w.params
		info := EventInfo{Type: p["e"]}
		if w.ue != nil {
			info.Schema = w.ue.Schema
			data, err := marshalJSON("event", SelfDescribingJSON{Schema: UnstructEventSchema, Data: w.ue})
			if err != nil {
				return nil, err
			}
			t.putJSON(p, "ue_pr", "ue_px", data)
		}
		entities := append(append([]SelfDescribingJSON(nil), global...), cfg.contexts...)
		for _, g := range generators {
			generated := g(info)
			for _, c := range generated {
				if err := c.validate("generated context"); err != nil {
					return nil, err
				}
			}
			entities = append(entities, generated...)
		}
		if len(entities) > 0 {
			data, err := marshalJSON("contexts", SelfDescribingJSON{Schema: ContextsSchema, Data: entities})
			if err != nil {
				return nil, err
			}
			t.putJSON(p, "co", "cx", data)
		}
		if cfg.ttm != nil {
			p["ttm"] = strconv.FormatInt(cfg.ttm.UnixMilli(), 10)
		}
		subject.addTo(p)
		p["tv"] = TrackerVersion
		p["p"] = string(t.platform)
		putText(p, "tna", t.namespace)
		putText(p, "aid", t.appID)
		p["dtm"] = dtm
		p["eid"] = t.newID()
		out = append(out, p)
	}
	return out, nil
}

func (t *Tracker) putJSON(p Payload, plain, encoded string, data []byte) {
	if t.base64 {
		p[encoded] = base64URL(data)
	} else {
		p[plain] = string(data)
	}
}

// Flush sends every queued event and waits for the outcome or for ctx (see [Emitter.Flush]).
func (t *Tracker) Flush(ctx context.Context) error { return t.emitter.Flush(ctx) }

// Close flushes and stops the emitter (see [Emitter.Close]).
func (t *Tracker) Close(ctx context.Context) error { return t.emitter.Close(ctx) }

// Emitter returns the tracker's emitter.
func (t *Tracker) Emitter() *Emitter { return t.emitter }

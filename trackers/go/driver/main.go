// Command driver is the conformance driver of the Go tracker (tracker driver protocol v1,
// spec/driver/README.md): one JSON request per line on stdin, one JSON reply per line on
// stdout. It is a dispatch table from command to tracker calls and holds no test logic: the
// harness owns the collector, records the wire and judges every case.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"plowline.dev/trackers/go/internal/neutral"
	"plowline.dev/trackers/go/tracker"
)

const protocol = 1

var capabilities = []string{
	"get", "post", "base64", "custom-paths", "request-timeout",
	"batching-count", "batching-bytes",
	"retry", "retry-after", "persistence",
	"injected-clock", "injected-event-id",
	"subject", "subject-per-event", "contexts", "true-timestamp",
	"event-page-view", "event-page-ping", "event-structured", "event-self-describing",
	"event-screen-view", "event-screen-view-legacy", "event-link-click", "event-submit-form",
	"event-change-form", "event-focus-form", "event-site-search", "event-timing",
	"event-ecommerce-transaction", "event-add-to-cart", "event-remove-from-cart",
}

const (
	defaultResetTimeout = time.Second
	defaultFlushTimeout = 30 * time.Second
)

// skip is the "skipped" reply: the driver cannot do this.
type skip struct{ reason, capability string }

func (s skip) Error() string { return s.reason }

// protocolError is an "errored"/"protocol" reply: a malformed or out-of-order request.
type protocolError struct{ msg string }

func (p protocolError) Error() string { return p.msg }

func protocolf(format string, args ...any) error {
	return protocolError{fmt.Sprintf(format, args...)}
}

// clock is the injected clock: fixed once a clock_ms was given, the real clock until then.
type clock struct {
	mu    sync.Mutex
	fixed *int64
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed == nil {
		return time.Now()
	}
	return time.UnixMilli(*c.fixed)
}

func (c *clock) set(ms int64) {
	c.mu.Lock()
	c.fixed = &ms
	c.mu.Unlock()
}

// ids is the injected id factory: ids queued by a track request, then the seeded sequence
// printf("%08x-0000-4000-8000-%012x", seed, n), else random UUIDs.
type ids struct {
	mu     sync.Mutex
	queued []string
	seed   *uint64
	n      uint64
}

func (f *ids) next() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queued) > 0 {
		id := f.queued[0]
		f.queued = f.queued[1:]
		return id
	}
	if f.seed == nil {
		return tracker.NewEventID()
	}
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", *f.seed, f.n)
	f.n++
	return id
}

func (f *ids) queue(list []string) {
	f.mu.Lock()
	f.queued = append([]string(nil), list...)
	f.mu.Unlock()
}

type session struct {
	tracker  *tracker.Tracker
	subject  tracker.Subject // the configured subject
	clock    *clock
	ids      *ids
	stopping bool
}

func (s *session) discard(timeout time.Duration) {
	if s.tracker == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = s.tracker.Close(ctx) // returns only once no further request can start
	s.tracker = nil
}

var strict = neutral.Strict

type request struct {
	Cmd string          `json:"cmd"`
	Seq *int64          `json:"seq"`
	raw json.RawMessage // the whole line
	obj map[string]json.RawMessage
}

type helloRequest struct {
	Cmd      string `json:"cmd"`
	Seq      int64  `json:"seq"`
	Protocol int    `json:"protocol"`
}

func hello(_ *session, r request) (map[string]any, error) {
	var h helloRequest
	if err := strict(r.raw, &h); err != nil {
		return nil, protocolf("hello: %v", err)
	}
	if h.Protocol != protocol {
		return nil, protocolf("this driver speaks protocol %d, not %d", protocol, h.Protocol)
	}
	return map[string]any{
		"protocol": protocol,
		"implementation": map[string]any{
			"name": "plowline-tracker-go", "version": tracker.Version, "language": "go",
			"tracker_version": tracker.TrackerVersion,
		},
		"capabilities": capabilities,
	}, nil
}

type configureRequest struct {
	Cmd      string `json:"cmd"`
	Seq      int64  `json:"seq"`
	Endpoint string `json:"endpoint"`
	Method   string `json:"method"`
	Tracker  struct {
		Namespace    string `json:"namespace"`
		AppID        string `json:"app_id"`
		Platform     string `json:"platform"`
		EncodeBase64 *bool  `json:"encode_base64"`
	} `json:"tracker"`
	Subject     json.RawMessage `json:"subject"`
	ClockMs     *int64          `json:"clock_ms"`
	EventIDSeed *uint64         `json:"event_id_seed"`
	Batching    struct {
		Count *int `json:"count"`
		Bytes *int `json:"bytes"`
	} `json:"batching"`
	Retry *struct {
		MaxAttempts      *int     `json:"max_attempts"`
		InitialBackoffMs *int64   `json:"initial_backoff_ms"`
		MaxBackoffMs     *int64   `json:"max_backoff_ms"`
		Multiplier       *float64 `json:"multiplier"`
		Jitter           *bool    `json:"jitter"`
		HonourRetryAfter *bool    `json:"honour_retry_after"`
	} `json:"retry"`
	RequestTimeoutMs *int64 `json:"request_timeout_ms"`
	Persistence      *struct {
		Path string `json:"path"`
	} `json:"persistence"`
	Paths struct {
		Get  string `json:"get"`
		Post string `json:"post"`
	} `json:"paths"`
}

func configure(s *session, r request) (map[string]any, error) {
	var c configureRequest
	if err := strict(r.raw, &c); err != nil {
		return nil, protocolf("configure: %v", err)
	}
	s.discard(defaultResetTimeout)
	s.clock, s.ids = &clock{}, &ids{seed: c.EventIDSeed}
	if c.ClockMs != nil {
		s.clock.set(*c.ClockMs)
	}
	subject, err := neutral.Subject(c.Subject)
	if err != nil {
		return nil, err
	}
	count := 1
	if c.Batching.Count != nil {
		count = *c.Batching.Count
	}
	opts := []tracker.EmitterOption{
		tracker.WithMethod(tracker.Method(strings.ToUpper(c.Method))),
		tracker.WithBatchSize(count),
		tracker.WithFlushInterval(0), // traffic only on a full batch or a flush
		tracker.WithPaths(c.Paths.Get, c.Paths.Post),
		tracker.WithEmitterClock(s.clock.now),
	}
	if c.Batching.Bytes != nil {
		opts = append(opts, tracker.WithByteLimitPost(*c.Batching.Bytes))
	}
	if c.Retry != nil {
		p := tracker.DefaultRetryPolicy()
		if v := c.Retry.MaxAttempts; v != nil {
			p.MaxAttempts = *v
		}
		if v := c.Retry.InitialBackoffMs; v != nil {
			p.InitialBackoff = time.Duration(*v) * time.Millisecond
		}
		if v := c.Retry.MaxBackoffMs; v != nil {
			p.MaxBackoff = time.Duration(*v) * time.Millisecond
		}
		if v := c.Retry.Multiplier; v != nil {
			p.Multiplier = *v
		}
		if v := c.Retry.Jitter; v != nil && !*v {
			p.Jitter = 0
		}
		if v := c.Retry.HonourRetryAfter; v != nil {
			p.HonourRetryAfter = *v
		}
		// The status rule stays the tracker's default, Snowplow's (spec/delivery/rules.yaml).
		opts = append(opts, tracker.WithRetryPolicy(mutantRetryPolicy(p)))
	}
	if c.RequestTimeoutMs != nil {
		opts = append(opts, tracker.WithRequestTimeout(time.Duration(*c.RequestTimeoutMs)*time.Millisecond))
	}
	if c.Persistence != nil && !mutantSkipsStore() {
		store, err := tracker.OpenFileStore(c.Persistence.Path)
		if err != nil {
			return nil, err
		}
		opts = append(opts, tracker.WithStore(store))
	}
	opts = append(opts, mutantEmitterOptions()...)
	emitter, err := tracker.NewEmitter(c.Endpoint, opts...)
	if err != nil {
		return nil, err
	}
	topts := []tracker.Option{
		tracker.WithNamespace(c.Tracker.Namespace),
		tracker.WithAppID(c.Tracker.AppID),
		tracker.WithClock(s.clock.now),
		tracker.WithEventIDFactory(s.ids.next),
	}
	if c.Tracker.Platform != "" {
		topts = append(topts, tracker.WithPlatform(tracker.Platform(c.Tracker.Platform)))
	}
	if c.Tracker.EncodeBase64 != nil {
		topts = append(topts, tracker.WithBase64(*c.Tracker.EncodeBase64))
	}
	s.subject = tracker.Subject{}
	if subject != nil {
		s.subject = *subject
		topts = append(topts, tracker.WithSubject(*subject))
	}
	topts = append(topts, mutantTrackerOptions(s)...)
	t, err := tracker.New(emitter, topts...)
	if err != nil {
		_ = emitter.Close(context.Background())
		return nil, err
	}
	s.tracker = t
	return map[string]any{}, nil
}

type trackRequest struct {
	Cmd      string          `json:"cmd"`
	Seq      int64           `json:"seq"`
	Event    json.RawMessage `json:"event"`
	ClockMs  *int64          `json:"clock_ms"`
	EventID  string          `json:"event_id"`
	EventIDs []string        `json:"event_ids"`
	Subject  json.RawMessage `json:"subject"`
}

func track(s *session, r request) (map[string]any, error) {
	var t trackRequest
	if err := strict(r.raw, &t); err != nil {
		return nil, protocolf("track: %v", err)
	}
	if s.tracker == nil {
		return nil, protocolf("track before configure")
	}
	event, opts, err := neutral.Event(t.Event)
	if err != nil {
		return nil, err
	}
	subject, err := neutral.Subject(t.Subject)
	if err != nil {
		return nil, err
	}
	if subject != nil {
		opts = append(opts, tracker.WithEventSubject(*subject))
	}
	if t.ClockMs != nil {
		s.clock.set(*t.ClockMs)
	}
	queued := t.EventIDs
	if t.EventID != "" {
		queued = []string{t.EventID}
	}
	s.ids.queue(queued)
	defer s.ids.queue(nil) // ids meant for this call never leak into the next
	got, err := s.tracker.Track(event, opts...)
	if err != nil {
		return nil, err
	}
	mutantStickySubject(s, subject)
	return map[string]any{"event_ids": got}, nil
}

type timeoutRequest struct {
	Cmd       string `json:"cmd"`
	Seq       int64  `json:"seq"`
	TimeoutMs *int64 `json:"timeout_ms"`
}

func (t timeoutRequest) timeout(def time.Duration) time.Duration {
	if t.TimeoutMs == nil {
		return def
	}
	return time.Duration(*t.TimeoutMs) * time.Millisecond
}

func flush(s *session, r request) (map[string]any, error) {
	var t timeoutRequest
	if err := strict(r.raw, &t); err != nil {
		return nil, protocolf("flush: %v", err)
	}
	if s.tracker == nil {
		return nil, protocolf("flush before configure")
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout(defaultFlushTimeout))
	defer cancel()
	err := s.tracker.Flush(ctx)
	if err != nil && !errors.Is(err, tracker.ErrNotDelivered) && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return map[string]any{"delivered": err == nil}, nil
}

func reset(s *session, r request) (map[string]any, error) {
	var t timeoutRequest
	if err := strict(r.raw, &t); err != nil {
		return nil, protocolf("%s: %v", r.Cmd, err)
	}
	s.discard(t.timeout(defaultResetTimeout))
	return map[string]any{}, nil
}

func stop(s *session, r request) (map[string]any, error) {
	out, err := reset(s, r)
	s.stopping = true
	return out, err
}

var commands = map[string]func(*session, request) (map[string]any, error){
	"hello": hello, "configure": configure, "track": track, "flush": flush,
	"reset": reset, "stop": stop,
}

func errored(seq *int64, kind, msg string) map[string]any {
	return map[string]any{"seq": seq, "status": "errored", "error_type": kind, "message": msg}
}

// answer is the one reply to one request line; nothing panics out of it.
func answer(s *session, line []byte) (reply map[string]any) {
	var r request
	if err := json.Unmarshal(line, &r.obj); err != nil {
		return errored(nil, "protocol", "request is not a JSON object: "+err.Error())
	}
	r.raw = line
	if err := json.Unmarshal(line, &r); err != nil || r.Seq == nil || *r.Seq < 0 {
		return errored(nil, "protocol", "request must have a non-negative integer seq")
	}
	handler, ok := commands[r.Cmd]
	if !ok {
		return errored(r.Seq, "protocol", fmt.Sprintf("unknown command %q", r.Cmd))
	}
	defer func() {
		if p := recover(); p != nil {
			reply = errored(r.Seq, "internal", fmt.Sprint("panic: ", p))
		}
	}()
	out, err := handler(s, r)
	var sk skip
	var pe protocolError
	var unsupported neutral.UnsupportedError
	var bad neutral.DecodeError
	switch {
	case err == nil:
		out["seq"], out["status"] = r.Seq, "ok"
		return out
	case errors.As(err, &sk):
		reply := map[string]any{"seq": r.Seq, "status": "skipped", "reason": sk.reason}
		if sk.capability != "" {
			reply["capability"] = sk.capability
		}
		return reply
	case errors.As(err, &unsupported):
		return map[string]any{"seq": r.Seq, "status": "skipped", "reason": unsupported.Error(),
			"capability": unsupported.Capability}
	case errors.As(err, &pe):
		return errored(r.Seq, "protocol", pe.msg)
	case errors.Is(err, tracker.ErrInvalidEvent), errors.Is(err, tracker.ErrInvalidConfig), errors.As(err, &bad):
		return errored(r.Seq, "invalid_argument", err.Error())
	default:
		return errored(r.Seq, "internal", err.Error())
	}
}

func main() {
	s := &session{}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if encErr := enc.Encode(answer(s, line)); encErr != nil {
				fmt.Fprintln(os.Stderr, "driver: cannot write a reply:", encErr)
			}
			_ = out.Flush()
			if s.stopping {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, "driver: reading stdin:", err)
			}
			s.discard(0) // stdin closed without stop: send nothing more
			return
		}
	}
}

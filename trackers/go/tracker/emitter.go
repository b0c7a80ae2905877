package tracker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Method is the HTTP method events are sent with.
type Method string

const (
	// MethodPOST sends batches to the POST path as a payload_data 1-0-4 JSON body (default).
	MethodPOST Method = "POST"
	// MethodGET sends one event per request, as the querystring of the GET path.
	MethodGET Method = "GET"
)

// Default byte limits. POST: room for a 40 KB entity (Snowplow's JavaScript tracker caps at
// 40000 bytes, which such an event overshoots) and well under a collector's 1 MiB payload
// limit. GET: the Snowplow collector's default request-line limit (20480 bytes).
const (
	DefaultByteLimitPost = 100_000
	DefaultByteLimitGet  = 20_480
)

// Default collector paths.
const (
	DefaultGetPath  = "/i"
	DefaultPostPath = "/com.snowplowanalytics.snowplow/tp2"
)

// Overflow is what a full queue does with new events.
type Overflow int

const (
	// DropNewest refuses the events of the track call that found the queue full: Track returns
	// ErrQueueFull and the failure callback gets them (ReasonQueueFull). The default.
	DropNewest Overflow = iota
	// DropOldest evicts the oldest queued events (not those being sent) to make room; the
	// failure callback gets them (ReasonQueueFull).
	DropOldest
)

const postContentType = "application/json; charset=utf-8"

var (
	postPrefix = []byte(`{"schema":"` + PayloadDataSchema + `","data":[`)
	postSuffix = []byte(`]}`)
)

// Emitter queues wire events and sends them from one worker goroutine. Create it with
// [NewEmitter]; it is safe for concurrent use.
type Emitter struct {
	getURL, postURL string
	method          Method
	batchSize       int
	byteLimitPost   int
	byteLimitGet    int
	retry           RetryPolicy
	rule            RetryRule
	client          *http.Client
	requestTimeout  time.Duration
	store           Store
	capacity        int
	overflow        Overflow
	flushInterval   time.Duration
	onSuccess       func(eventIDs []string)
	onFailure       func(Failure)
	headers         http.Header
	clock           func() time.Time
	random          func() float64

	mu     sync.Mutex
	queue  []*item
	seq    uint64
	closed bool

	// holdUntil pauses sends triggered by a full batch after a request used up its attempts
	// (the collector is down: do not hammer it on every track call); the timer and Flush
	// still send. Only the worker goroutine touches it.
	holdUntil time.Time

	wake     chan struct{}
	flushReq chan chan error
	stop     chan struct{}
	ctx      context.Context
	abort    context.CancelFunc
	done     chan struct{}
	closing  sync.Once
	closeErr error
}

type item struct {
	seq      uint64
	key      uint64 // store key; 0 when not stored
	id       string
	json     []byte  // the payload without stm, as a JSON object
	payload  Payload // the payload without stm (decoded lazily for GET)
	inflight bool
}

// EmitterOption configures an [Emitter].
type EmitterOption func(*Emitter) error

// WithMethod picks GET or POST (default POST).
func WithMethod(m Method) EmitterOption {
	return func(e *Emitter) error {
		if m != MethodGET && m != MethodPOST {
			return badConfig("method must be GET or POST, got %q", m)
		}
		e.method = m
		return nil
	}
}

// WithBatchSize sets how many events are buffered before the worker sends them (default 50);
// a POST request carries at most this many. 1 sends every event as soon as it is tracked.
func WithBatchSize(n int) EmitterOption {
	return func(e *Emitter) error {
		if n < 1 {
			return badConfig("batch size must be >= 1, got %d", n)
		}
		e.batchSize = n
		return nil
	}
}

// WithByteLimitPost caps the size of a POST body in bytes (default 100000); batches are split
// to fit, and an event that cannot fit alone is reported as ReasonOversized.
func WithByteLimitPost(n int) EmitterOption {
	return func(e *Emitter) error {
		if n < 200 {
			return badConfig("POST byte limit must be >= 200, got %d", n)
		}
		e.byteLimitPost = n
		return nil
	}
}

// WithByteLimitGet caps the length of a GET request's URL in bytes (default 20480); a longer
// event is reported as ReasonOversized.
func WithByteLimitGet(n int) EmitterOption {
	return func(e *Emitter) error {
		if n < 200 {
			return badConfig("GET byte limit must be >= 200, got %d", n)
		}
		e.byteLimitGet = n
		return nil
	}
}

// WithRetryPolicy sets attempts and back-off (default [DefaultRetryPolicy]).
func WithRetryPolicy(p RetryPolicy) EmitterOption {
	return func(e *Emitter) error {
		if err := p.validate(); err != nil {
			return err
		}
		e.retry = p
		return nil
	}
}

// WithRetryRule sets which non-2xx statuses are retried (default [SnowplowRetryRule]).
func WithRetryRule(r RetryRule) EmitterOption {
	return func(e *Emitter) error {
		if r == nil {
			return badConfig("retry rule must not be nil")
		}
		e.rule = r
		return nil
	}
}

// WithHTTPClient sends with c instead of the default client (which does not follow
// redirects: a 3xx is not a delivery). Give c no Timeout; use [WithRequestTimeout].
func WithHTTPClient(c *http.Client) EmitterOption {
	return func(e *Emitter) error {
		if c == nil {
			return badConfig("HTTP client must not be nil")
		}
		e.client = c
		return nil
	}
}

// WithRequestTimeout bounds each HTTP exchange (default 10 s); a timeout is a retryable
// failure.
func WithRequestTimeout(d time.Duration) EmitterOption {
	return func(e *Emitter) error {
		if d <= 0 {
			return badConfig("request timeout must be positive")
		}
		e.requestTimeout = d
		return nil
	}
}

// WithStore keeps queued events in s until they are delivered or given up on, and sends the
// events s holds from an earlier run first. The emitter closes s on Close.
func WithStore(s Store) EmitterOption {
	return func(e *Emitter) error { e.store = s; return nil }
}

// WithQueueCapacity bounds the queue in events (default 10000) and sets what a full queue
// does (default [DropNewest]).
func WithQueueCapacity(n int, overflow Overflow) EmitterOption {
	return func(e *Emitter) error {
		if n < 1 {
			return badConfig("queue capacity must be >= 1, got %d", n)
		}
		if overflow != DropNewest && overflow != DropOldest {
			return badConfig("unknown overflow policy %d", int(overflow))
		}
		e.capacity, e.overflow = n, overflow
		return nil
	}
}

// WithFlushInterval sends whatever is queued this often (default 5 s); 0 never sends on a
// timer, only on a full batch or Flush.
func WithFlushInterval(d time.Duration) EmitterOption {
	return func(e *Emitter) error {
		if d < 0 {
			return badConfig("flush interval must not be negative")
		}
		e.flushInterval = d
		return nil
	}
}

// WithSuccessCallback is called with the event ids of every delivered request, from the
// worker goroutine.
func WithSuccessCallback(f func(eventIDs []string)) EmitterOption {
	return func(e *Emitter) error { e.onSuccess = f; return nil }
}

// WithFailureCallback is called for every failure (see [FailureReason]): from the worker
// goroutine for delivery outcomes, from the track call's goroutine for oversized events and
// a full queue. It must not call the emitter back synchronously.
func WithFailureCallback(f func(Failure)) EmitterOption {
	return func(e *Emitter) error { e.onFailure = f; return nil }
}

// WithHeader adds a header to every request (e.g. an API key for a proxy).
func WithHeader(name, value string) EmitterOption {
	return func(e *Emitter) error {
		if name == "" || strings.ContainsAny(name, " :\r\n") || strings.ContainsAny(value, "\r\n") {
			return badConfig("invalid header %q", name)
		}
		e.headers.Add(name, value)
		return nil
	}
}

// WithServerAnonymisation sends "SP-Anonymous: *" with every request, so the collector
// records neither the IP address nor a network user id cookie for these events.
func WithServerAnonymisation() EmitterOption {
	return WithHeader("SP-Anonymous", "*")
}

// WithPaths sends to other collector paths than /i and /com.snowplowanalytics.snowplow/tp2
// (e.g. a collector configured with custom paths); "" keeps a default.
func WithPaths(get, post string) EmitterOption {
	return func(e *Emitter) error {
		for _, p := range []string{get, post} {
			if p != "" && !strings.HasPrefix(p, "/") {
				return badConfig("path %q must start with /", p)
			}
		}
		if get != "" {
			e.getURL = get
		}
		if post != "" {
			e.postURL = post
		}
		return nil
	}
}

// WithEmitterClock replaces the clock that stamps stm (give the tracker the same one).
func WithEmitterClock(now func() time.Time) EmitterOption {
	return func(e *Emitter) error { e.clock = now; return nil }
}

// NewEmitter returns an emitter sending to the collector at endpoint ("https://host[:port]";
// without a scheme, https is assumed) and starts its worker.
func NewEmitter(endpoint string, opts ...EmitterOption) (*Emitter, error) {
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	base, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, badConfig("collector endpoint %q is not an http(s) URL", endpoint)
	}
	e := &Emitter{
		getURL: DefaultGetPath, postURL: DefaultPostPath, method: MethodPOST, batchSize: 50,
		byteLimitPost: DefaultByteLimitPost, byteLimitGet: DefaultByteLimitGet, retry: DefaultRetryPolicy(),
		rule: SnowplowRetryRule, requestTimeout: 10 * time.Second, capacity: 10000,
		flushInterval: 5 * time.Second, headers: http.Header{}, clock: time.Now,
		random: rand.Float64,
	}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	e.getURL = base.String() + e.getURL
	e.postURL = base.String() + e.postURL
	if e.client == nil {
		e.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if e.store != nil {
		records, err := e.store.Load()
		if err != nil {
			return nil, fmt.Errorf("loading the event store: %w", err)
		}
		for _, r := range records {
			it := &item{key: r.Key, json: r.Payload}
			var p Payload
			if err := json.Unmarshal(r.Payload, &p); err != nil {
				continue // a record this version cannot read; the journal's CRC makes this rare
			}
			it.payload, it.id = p, p["eid"]
			e.seq++
			it.seq = e.seq
			e.queue = append(e.queue, it)
		}
	}
	e.wake = make(chan struct{}, 1)
	e.flushReq = make(chan chan error)
	e.stop = make(chan struct{})
	e.done = make(chan struct{})
	e.ctx, e.abort = context.WithCancel(context.Background())
	go e.run()
	return e, nil
}

// Pending returns how many events are queued (including those being sent).
func (e *Emitter) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queue)
}

func (e *Emitter) fail(f Failure) {
	if e.onFailure != nil && len(f.EventIDs) > 0 {
		f.EventIDs = append([]string(nil), f.EventIDs...)
		e.onFailure(f)
	}
}

// stmText is the stm value if an event were sent now.
func (e *Emitter) stmText() string {
	return strconv.FormatInt(e.clock().UnixMilli(), 10)
}

// postSize is the bytes item adds to a POST body (without the separating comma).
func postSize(it *item, stm string) int {
	return len(it.json) + len(`"stm":"",`) + len(stm)
}

func (e *Emitter) oversized(it *item, stm string) bool {
	if e.method == MethodGET {
		return len(e.getURL)+1+len(encodeQuery(it.payload, stm)) > e.byteLimitGet
	}
	return len(postPrefix)+postSize(it, stm)+len(postSuffix) > e.byteLimitPost
}

// add queues the wire events of one track call.
func (e *Emitter) add(payloads []Payload) error {
	items := make([]*item, 0, len(payloads))
	stm := e.stmText()
	var tooBig []string
	for _, p := range payloads {
		it := &item{id: p["eid"], json: encodePayload(p), payload: p}
		if e.oversized(it, stm) {
			tooBig = append(tooBig, it.id)
			continue
		}
		items = append(items, it)
	}
	e.fail(Failure{Reason: ReasonOversized, EventIDs: tooBig})
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	var evicted []*item
	if over := len(e.queue) + len(items) - e.capacity; over > 0 {
		if e.overflow == DropNewest || len(items) > e.capacity {
			e.mu.Unlock()
			e.fail(Failure{Reason: ReasonQueueFull, EventIDs: ids(items)})
			return ErrQueueFull
		}
		evicted = e.evictOldest(over)
	}
	var storeErr error
	if e.store != nil && len(items) > 0 {
		raws := make([][]byte, len(items))
		for i, it := range items {
			raws[i] = it.json
		}
		stored, err := e.store.Append(raws)
		if err != nil {
			storeErr = err
		} else {
			for i, it := range items {
				it.key = stored[i]
			}
		}
		if len(evicted) > 0 {
			if err := e.store.Remove(keys(evicted)); err != nil && storeErr == nil {
				storeErr = err
			}
		}
	}
	for _, it := range items {
		e.seq++
		it.seq = e.seq
	}
	e.queue = append(e.queue, items...)
	full := len(e.queue) >= e.batchSize
	e.mu.Unlock()
	e.fail(Failure{Reason: ReasonQueueFull, EventIDs: ids(evicted)})
	if storeErr != nil {
		e.fail(Failure{Reason: ReasonStore, EventIDs: ids(items), Err: storeErr, Kept: true})
	}
	if full {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// evictOldest removes n of the oldest items not being sent (e.mu held).
func (e *Emitter) evictOldest(n int) []*item {
	var out []*item
	kept := e.queue[:0]
	for _, it := range e.queue {
		if len(out) < n && !it.inflight {
			out = append(out, it)
			continue
		}
		kept = append(kept, it)
	}
	e.queue = kept
	return out
}

func ids(items []*item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.id
	}
	return out
}

func keys(items []*item) []uint64 {
	var out []uint64
	for _, it := range items {
		if it.key != 0 {
			out = append(out, it.key)
		}
	}
	return out
}

// Flush asks the worker to send every event queued now and waits until it has (nil), until
// some could not be delivered (an error wrapping [ErrNotDelivered]) or until ctx is done
// (ctx.Err(); the worker goes on trying in the background).
func (e *Emitter) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return e.flush(ctx)
}

func (e *Emitter) flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case e.flushReq <- reply:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.done:
		return ErrClosed
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking events, sends what is queued until ctx is done, then aborts any request
// in flight and stops the worker. When Close returns, the emitter starts no further request;
// events not delivered stay in the store, if there is one. Close is idempotent.
func (e *Emitter) Close(ctx context.Context) error {
	e.closing.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		var err error
		if err = ctx.Err(); err == nil {
			err = e.flush(ctx)
		}
		e.abort() // nothing more to wait for: abort a request or back-off still running
		close(e.stop)
		<-e.done
		if e.store != nil {
			if cerr := e.store.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		e.closeErr = err
	})
	return e.closeErr
}

func (e *Emitter) run() {
	defer close(e.done)
	var tick <-chan time.Time
	if e.flushInterval > 0 {
		t := time.NewTicker(e.flushInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-e.stop:
			return
		case <-e.wake:
			if time.Now().After(e.holdUntil) {
				_ = e.round(false)
			}
		case <-tick:
			_ = e.round(true)
		case reply := <-e.flushReq:
			reply <- e.round(true)
		}
	}
}

// round sends queued events: with all, every event queued when the round starts; else only
// whole batches of batchSize events.
func (e *Emitter) round(all bool) error {
	e.mu.Lock()
	last := e.seq
	e.mu.Unlock()
	var undelivered int
	for {
		group := e.nextGroup(all, last)
		if len(group) == 0 {
			break
		}
		for _, req := range e.split(group) {
			switch e.deliver(req) {
			case outcomeAborted:
				e.release(group)
				return e.ctx.Err()
			case outcomeKept:
				e.release(group)
				if !all {
					e.holdUntil = time.Now().Add(e.retry.MaxBackoff)
				}
				undelivered += e.countUpTo(last)
				return fmt.Errorf("%w: %d event(s) still queued after %d attempts", ErrNotDelivered, undelivered, e.retry.MaxAttempts)
			case outcomeRejected:
				undelivered += len(req)
			}
		}
	}
	if undelivered > 0 {
		return fmt.Errorf("%w: %d event(s) rejected by the collector", ErrNotDelivered, undelivered)
	}
	return nil
}

func (e *Emitter) countUpTo(last uint64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, it := range e.queue {
		if it.seq <= last {
			n++
		}
	}
	return n
}

// nextGroup marks and returns the next batchSize (or fewer, with all) events to send.
func (e *Emitter) nextGroup(all bool, last uint64) []*item {
	e.mu.Lock()
	defer e.mu.Unlock()
	var group []*item
	for _, it := range e.queue {
		if len(group) == e.batchSize || (all && it.seq > last) {
			break
		}
		if !it.inflight {
			group = append(group, it)
		}
	}
	if !all && len(group) < e.batchSize {
		return nil
	}
	for _, it := range group {
		it.inflight = true
	}
	return group
}

func (e *Emitter) release(group []*item) {
	e.mu.Lock()
	for _, it := range group {
		it.inflight = false
	}
	e.mu.Unlock()
}

// split turns a group into requests: one per event for GET, byte-limited batches for POST.
func (e *Emitter) split(group []*item) [][]*item {
	var out [][]*item
	if e.method == MethodGET {
		for _, it := range group {
			out = append(out, []*item{it})
		}
		return out
	}
	stm := e.stmText()
	budget := e.byteLimitPost - len(postPrefix) - len(postSuffix)
	var cur []*item
	used := 0
	for _, it := range group {
		size := postSize(it, stm)
		if len(cur) > 0 && used+1+size > budget {
			out = append(out, cur)
			cur, used = nil, 0
		}
		if len(cur) > 0 {
			used++ // the comma
		}
		cur = append(cur, it)
		used += size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

type outcome int

const (
	outcomeDelivered outcome = iota
	outcomeRejected
	outcomeKept
	outcomeAborted
)

// deliver attempts one request until it is delivered, given up on, out of attempts or
// aborted, and settles its events accordingly.
func (e *Emitter) deliver(req []*item) outcome {
	var (
		status  int
		lastErr error
	)
	for attempt := 1; ; attempt++ {
		var retryAfter string
		status, retryAfter, lastErr = e.attempt(req)
		switch {
		case lastErr == nil && status >= 200 && status < 300:
			e.settle(req)
			if e.onSuccess != nil {
				e.onSuccess(ids(req))
			}
			return outcomeDelivered
		case e.ctx.Err() != nil:
			return outcomeAborted
		case lastErr == nil && !e.rule(status):
			e.settle(req)
			e.fail(Failure{Reason: ReasonRejected, EventIDs: ids(req), StatusCode: status, Attempts: attempt})
			return outcomeRejected
		case attempt >= e.retry.MaxAttempts:
			e.fail(Failure{Reason: ReasonRetriesExhausted, EventIDs: ids(req), StatusCode: status,
				Attempts: attempt, Err: lastErr, Kept: true})
			return outcomeKept
		}
		wait := e.retry.wait(attempt, e.random(), retryAfter, time.Now())
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-e.ctx.Done():
			timer.Stop()
			return outcomeAborted
		}
	}
}

// settle removes delivered or rejected events from the queue and the store.
func (e *Emitter) settle(req []*item) {
	gone := make(map[*item]bool, len(req))
	for _, it := range req {
		gone[it] = true
	}
	e.mu.Lock()
	kept := e.queue[:0]
	for _, it := range e.queue {
		if !gone[it] {
			kept = append(kept, it)
		}
	}
	for i := len(kept); i < len(e.queue); i++ {
		e.queue[i] = nil
	}
	e.queue = kept
	var err error
	if e.store != nil {
		err = e.store.Remove(keys(req))
	}
	e.mu.Unlock()
	if err != nil {
		e.fail(Failure{Reason: ReasonStore, EventIDs: ids(req), Err: err})
	}
}

// attempt makes one HTTP request for req, stamping stm now.
func (e *Emitter) attempt(req []*item) (status int, retryAfter string, err error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.requestTimeout)
	defer cancel()
	stm := e.stmText()
	var hr *http.Request
	if e.method == MethodGET {
		it := req[0]
		if it.payload == nil {
			if err := json.Unmarshal(it.json, &it.payload); err != nil {
				return 0, "", err
			}
		}
		hr, err = http.NewRequestWithContext(ctx, http.MethodGet, e.getURL+"?"+encodeQuery(it.payload, stm), nil)
	} else {
		hr, err = http.NewRequestWithContext(ctx, http.MethodPost, e.postURL, bytes.NewReader(postBody(req, stm)))
		if hr != nil {
			hr.Header.Set("Content-Type", postContentType)
		}
	}
	if err != nil {
		return 0, "", err
	}
	for k, vs := range e.headers {
		hr.Header[k] = vs
	}
	resp, err := e.client.Do(hr)
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// postBody is the payload_data 1-0-4 envelope of req with stm stamped on every event.
func postBody(req []*item, stm string) []byte {
	size := len(postPrefix) + len(postSuffix)
	for _, it := range req {
		size += postSize(it, stm) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, postPrefix...)
	for i, it := range req {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendWithStm(buf, it.json, stm)
	}
	return append(buf, postSuffix...)
}

// appendWithStm appends the JSON object obj with "stm" as its first member.
func appendWithStm(buf, obj []byte, stm string) []byte {
	buf = append(buf, `{"stm":"`...)
	buf = append(buf, stm...)
	buf = append(buf, '"')
	if len(obj) > 2 {
		buf = append(buf, ',')
	}
	return append(buf, obj[1:]...)
}

// encodeQuery is the GET querystring of p plus stm: keys sorted, values percent-encoded with
// %20 for a space (decoders that treat '+' as a literal then read it right too).
func encodeQuery(p Payload, stm string) string {
	names := make([]string, 0, len(p)+1)
	for k := range p {
		if k != "stm" {
			names = append(names, k)
		}
	}
	names = append(names, "stm")
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		v := p[k]
		if k == "stm" {
			v = stm
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
	}
	return b.String()
}

package tracker_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"plowline.dev/trackers/go/tracker"
)

// failures records what the failure callback hears.
type failures struct {
	mu  sync.Mutex
	got []tracker.Failure
}

func (f *failures) add(x tracker.Failure) {
	f.mu.Lock()
	f.got = append(f.got, x)
	f.mu.Unlock()
}

func (f *failures) list() []tracker.Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tracker.Failure(nil), f.got...)
}

func fastRetry(attempts int) tracker.RetryPolicy {
	p := tracker.DefaultRetryPolicy()
	p.MaxAttempts, p.InitialBackoff, p.MaxBackoff, p.Jitter = attempts, 5*time.Millisecond, 20*time.Millisecond, 0
	return p
}

// newTracker builds a tracker to c with no timer and batch size 1 unless opts say otherwise.
func newTracker(t *testing.T, c *fakeCollector, f *failures, opts ...tracker.EmitterOption) *tracker.Tracker {
	t.Helper()
	all := []tracker.EmitterOption{tracker.WithBatchSize(1), tracker.WithFlushInterval(0),
		tracker.WithRetryPolicy(fastRetry(3))}
	if f != nil {
		all = append(all, tracker.WithFailureCallback(f.add))
	}
	e, err := tracker.NewEmitter(c.URL(), append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(e, tracker.WithAppID("test"), tracker.WithBase64(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close(context.Background()) })
	return tr
}

func track(t *testing.T, tr *tracker.Tracker, ev tracker.Event, opts ...tracker.TrackOption) string {
	t.Helper()
	ids, err := tr.Track(ev, opts...)
	if err != nil {
		t.Fatalf("track: %v", err)
	}
	return ids[0]
}

func flush(t *testing.T, tr *tracker.Tracker) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tr.Flush(ctx)
}

func pv(url string) tracker.PageView { return tracker.PageView{URL: url} }

func TestRetryRules(t *testing.T) {
	for status, want := range map[int]bool{400: false, 401: false, 403: false, 410: false, 422: false,
		404: true, 408: true, 413: true, 429: true, 302: true, 500: true, 503: true} {
		if got := tracker.SnowplowRetryRule(status); got != want {
			t.Errorf("SnowplowRetryRule(%d) = %v, want %v", status, got, want)
		}
	}
	for status, want := range map[int]bool{400: false, 404: false, 413: false, 408: true, 429: true,
		302: true, 500: true, 504: true} {
		if got := tracker.ClientErrorsFinalRetryRule(status); got != want {
			t.Errorf("ClientErrorsFinalRetryRule(%d) = %v, want %v", status, got, want)
		}
	}
	except := tracker.RetryRuleExcept(418)
	if except(418) || !except(400) {
		t.Error("RetryRuleExcept(418) must give up on 418 only")
	}
}

func TestDefaultRuleRetries404AndGivesUpOn403(t *testing.T) {
	c := newCollector(t, answer{status: 404}, answer{status: 200}, answer{status: 403})
	var f failures
	tr := newTracker(t, c, &f, tracker.WithBatchSize(10)) // only Flush sends
	first := track(t, tr, pv("https://a.example/1"))
	if err := flush(t, tr); err != nil {
		t.Fatalf("404 then 200 must deliver: %v", err)
	}
	second := track(t, tr, pv("https://a.example/2"))
	if err := flush(t, tr); !errors.Is(err, tracker.ErrNotDelivered) {
		t.Fatalf("a 403 must not be delivered: %v", err)
	}
	reqs := c.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (404, 200, 403)", len(reqs))
	}
	got := f.list()
	if len(got) != 1 || got[0].Reason != tracker.ReasonRejected || got[0].StatusCode != 403 ||
		got[0].EventIDs[0] != second || got[0].Kept {
		t.Fatalf("failures %+v, want one rejected 403 for %s", got, second)
	}
	if d := c.delivered(t); len(d) != 1 || d[0]["eid"] != first {
		t.Fatalf("delivered %v", d)
	}
}

func TestRedirectIsNotSuccess(t *testing.T) {
	c := newCollector(t, answer{status: 302}, answer{status: 204})
	tr := newTracker(t, c, nil)
	track(t, tr, pv("https://a.example/"))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	if n := len(c.requests()); n != 2 {
		t.Fatalf("%d requests: a 302 must be retried (only 2xx delivers), then 204 delivers", n)
	}
}

func TestRetryKeepsEventIDAndRestampsStm(t *testing.T) {
	c := newCollector(t, answer{status: 500}, answer{status: 503})
	var now atomic.Int64
	now.Store(1_000_000_000_000)
	clock := func() time.Time { return time.UnixMilli(now.Add(1000)) }
	tr := newTracker(t, c, nil, tracker.WithEmitterClock(clock))
	id := track(t, tr, pv("https://a.example/"))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	reqs := c.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		ev := r.events(t)[0]
		if ev["eid"] != id {
			t.Errorf("attempt carries eid %s, want %s", ev["eid"], id)
		}
		if seen[ev["stm"]] {
			t.Errorf("stm %s repeated: each attempt must be stamped anew", ev["stm"])
		}
		seen[ev["stm"]] = true
	}
}

func TestRetriesExhaustedKeepsEventsInOrder(t *testing.T) {
	c := newCollector(t, answer{status: 500}, answer{status: 500})
	var f failures
	tr := newTracker(t, c, &f, tracker.WithBatchSize(10), tracker.WithRetryPolicy(fastRetry(2)))
	a := track(t, tr, pv("https://a.example/a"))
	b := track(t, tr, pv("https://a.example/b"))
	if err := flush(t, tr); !errors.Is(err, tracker.ErrNotDelivered) {
		t.Fatalf("flush after exhausted retries: %v", err)
	}
	if got := f.list(); len(got) != 1 || got[0].Reason != tracker.ReasonRetriesExhausted || !got[0].Kept || got[0].Attempts != 2 {
		t.Fatalf("failures %+v", got)
	}
	cc := track(t, tr, pv("https://a.example/c"))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, ev := range c.delivered(t) {
		order = append(order, ev["eid"])
	}
	if strings.Join(order, ",") != strings.Join([]string{a, b, cc}, ",") {
		t.Fatalf("delivered %v, want %v", order, []string{a, b, cc})
	}
}

func TestBackoff(t *testing.T) {
	p := tracker.RetryPolicy{MaxAttempts: 10, InitialBackoff: 100 * time.Millisecond,
		MaxBackoff: time.Second, Multiplier: 2, Jitter: 0.5}
	for failed, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 60: time.Second, 1000: time.Second} {
		if got := p.Backoff(failed, 0); got != want {
			t.Errorf("Backoff(%d, 0) = %v, want %v", failed, got, want)
		}
		// The largest jitter takes at most half off, never more; never over the cap.
		if got := p.Backoff(failed, 0.999999); got < want/2 || got > want {
			t.Errorf("Backoff(%d, ~1) = %v, want within [%v, %v]", failed, got, want/2, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]struct {
		d  time.Duration
		ok bool
	}{
		"7":                             {7 * time.Second, true},
		" 0 ":                           {0, true},
		"Fri, 02 Jan 2026 03:04:08 GMT": {3 * time.Second, true},
		"Fri, 02 Jan 2026 03:00:00 GMT": {0, true},
		"soon":                          {0, false},
		"-1":                            {0, false},
		"":                              {0, false},
	}
	for in, want := range cases {
		d, ok := tracker.ParseRetryAfter(in, now)
		if d != want.d || ok != want.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", in, d, ok, want.d, want.ok)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	c := newCollector(t, answer{status: 429, retryAfter: "1"})
	tr := newTracker(t, c, nil)
	track(t, tr, pv("https://a.example/"))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	reqs := c.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < time.Second {
		t.Fatalf("retried after %v, Retry-After asked for 1 s", gap)
	}
}

func TestOversizedEventGoesToTheFailureCallback(t *testing.T) {
	c := newCollector(t)
	var f failures
	tr := newTracker(t, c, &f, tracker.WithByteLimitPost(400))
	big := track(t, tr, tracker.Structured{Category: "c", Action: "a", Label: strings.Repeat("x", 500)})
	small := track(t, tr, pv("https://a.example/"))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	got := f.list()
	if len(got) != 1 || got[0].Reason != tracker.ReasonOversized || got[0].EventIDs[0] != big || got[0].Kept {
		t.Fatalf("failures %+v, want one oversized for %s", got, big)
	}
	if d := c.delivered(t); len(d) != 1 || d[0]["eid"] != small {
		t.Fatalf("delivered %v, want only %s", d, small)
	}
}

func TestBatchesSplitByBytes(t *testing.T) {
	c := newCollector(t)
	tr := newTracker(t, c, nil, tracker.WithBatchSize(10), tracker.WithByteLimitPost(1200))
	var want []string
	for i := 0; i < 10; i++ {
		want = append(want, track(t, tr, tracker.Structured{Category: "c", Action: "a", Label: strings.Repeat("y", 200)}))
	}
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	reqs := c.requests()
	if len(reqs) < 3 {
		t.Fatalf("%d requests: 10 events of ~400 bytes cannot fit 1200 bytes in fewer than 3", len(reqs))
	}
	var got []string
	for i, r := range reqs {
		if len(r.body) > 1200 {
			t.Errorf("request %d has %d bytes, limit 1200", i, len(r.body))
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		for _, ev := range r.events(t) {
			got = append(got, ev["eid"])
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want each once in order %v", got, want)
	}
	// The split packs greedily: no two neighbouring requests could have been one.
	for i := 1; i < len(reqs); i++ {
		if len(reqs[i-1].body)+len(reqs[i].body)-len(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[]}`)+1 <= 1200 {
			t.Errorf("requests %d and %d would have fitted together", i-1, i)
		}
	}
}

func TestBatchSizeHoldsTrafficUntilFull(t *testing.T) {
	c := newCollector(t)
	tr := newTracker(t, c, nil, tracker.WithBatchSize(3))
	track(t, tr, pv("https://a.example/1"))
	track(t, tr, pv("https://a.example/2"))
	time.Sleep(50 * time.Millisecond)
	if n := len(c.requests()); n != 0 {
		t.Fatalf("%d requests before the batch was full", n)
	}
	track(t, tr, pv("https://a.example/3"))
	reqs := c.waitRequests(1)
	if n := len(reqs[0].events(t)); n != 3 {
		t.Fatalf("the full batch carried %d events, want 3", n)
	}
}

func TestQueueOverflow(t *testing.T) {
	t.Run("drop newest", func(t *testing.T) {
		c := newCollector(t)
		var f failures
		tr := newTracker(t, c, &f, tracker.WithBatchSize(100), tracker.WithQueueCapacity(2, tracker.DropNewest))
		a := track(t, tr, pv("https://a.example/1"))
		b := track(t, tr, pv("https://a.example/2"))
		if _, err := tr.Track(pv("https://a.example/3")); !errors.Is(err, tracker.ErrQueueFull) {
			t.Fatalf("third event on a full queue: %v", err)
		}
		if got := f.list(); len(got) != 1 || got[0].Reason != tracker.ReasonQueueFull {
			t.Fatalf("failures %+v", got)
		}
		if err := flush(t, tr); err != nil {
			t.Fatal(err)
		}
		d := c.delivered(t)
		if len(d) != 2 || d[0]["eid"] != a || d[1]["eid"] != b {
			t.Fatalf("delivered %v", d)
		}
	})
	t.Run("drop oldest", func(t *testing.T) {
		c := newCollector(t)
		var f failures
		tr := newTracker(t, c, &f, tracker.WithBatchSize(100), tracker.WithQueueCapacity(2, tracker.DropOldest))
		a := track(t, tr, pv("https://a.example/1"))
		b := track(t, tr, pv("https://a.example/2"))
		cc := track(t, tr, pv("https://a.example/3"))
		if got := f.list(); len(got) != 1 || got[0].Reason != tracker.ReasonQueueFull || got[0].EventIDs[0] != a {
			t.Fatalf("failures %+v, want %s evicted", got, a)
		}
		if err := flush(t, tr); err != nil {
			t.Fatal(err)
		}
		d := c.delivered(t)
		if len(d) != 2 || d[0]["eid"] != b || d[1]["eid"] != cc {
			t.Fatalf("delivered %v", d)
		}
	})
}

func TestFlushAndCloseHonourContext(t *testing.T) {
	c := newCollector(t, answer{status: 200, delay: 3 * time.Second})
	tr := newTracker(t, c, nil, tracker.WithRequestTimeout(30*time.Second))
	track(t, tr, pv("https://a.example/"))
	c.waitRequests(1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := tr.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("flush: %v, want the context's deadline", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("flush outlived its context")
	}
	expired, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := tr.Close(expired); !errors.Is(err, context.Canceled) {
		t.Fatalf("close: %v", err)
	}
	n := len(c.requests())
	if _, err := tr.Track(pv("https://a.example/")); !errors.Is(err, tracker.ErrClosed) {
		t.Fatalf("track after close: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if len(c.requests()) != n {
		t.Fatal("a request started after Close returned")
	}
}

func TestRequestTimeoutIsRetried(t *testing.T) {
	c := newCollector(t, answer{status: 200, delay: 2 * time.Second})
	tr := newTracker(t, c, nil, tracker.WithRequestTimeout(100*time.Millisecond))
	track(t, tr, pv("https://a.example/"))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	if n := len(c.requests()); n != 2 {
		t.Fatalf("%d requests, want the slow one and its retry", n)
	}
}

func TestDroppedConnectionIsRetried(t *testing.T) {
	c := newCollector(t, answer{drop: true})
	tr := newTracker(t, c, nil)
	id := track(t, tr, pv("https://a.example/"))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	if d := c.delivered(t); len(d) != 1 || d[0]["eid"] != id {
		t.Fatalf("delivered %v", d)
	}
}

func TestGetRequests(t *testing.T) {
	c := newCollector(t)
	tr := newTracker(t, c, nil, tracker.WithMethod(tracker.MethodGET), tracker.WithBatchSize(2),
		tracker.WithPaths("/custom/i", ""), tracker.WithHeader("X-Api-Key", "k1"))
	track(t, tr, tracker.Structured{Category: "a b", Action: "x+y&z=1"})
	track(t, tr, pv("https://a.example/"))
	reqs := c.waitRequests(2)
	for _, r := range reqs {
		if r.method != http.MethodGet || r.path != "/custom/i" || len(r.body) != 0 {
			t.Fatalf("request %s %s with %d body bytes", r.method, r.path, len(r.body))
		}
		if r.header.Get("X-Api-Key") != "k1" {
			t.Errorf("custom header missing: %v", r.header)
		}
	}
	ev := reqs[0].events(t)[0]
	if ev["se_ca"] != "a b" || ev["se_ac"] != "x+y&z=1" {
		t.Fatalf("querystring decoded to %v", ev)
	}
	if strings.Contains(reqs[0].rawQry, "+") {
		t.Errorf("a space must travel as %%20, not +: %s", reqs[0].rawQry)
	}
}

func TestServerAnonymisationHeader(t *testing.T) {
	c := newCollector(t)
	tr := newTracker(t, c, nil, tracker.WithServerAnonymisation())
	track(t, tr, pv("https://a.example/"))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	if got := c.requests()[0].header.Get("SP-Anonymous"); got != "*" {
		t.Fatalf("SP-Anonymous = %q", got)
	}
}

func TestCallbacksReportDelivery(t *testing.T) {
	c := newCollector(t)
	var mu sync.Mutex
	var delivered []string
	tr := newTracker(t, c, nil, tracker.WithSuccessCallback(func(ids []string) {
		mu.Lock()
		delivered = append(delivered, ids...)
		mu.Unlock()
	}))
	ids, err := tr.Track(tracker.EcommerceTransaction{OrderID: "o", TotalValue: 3,
		Items: []tracker.TransactionItem{{SKU: "a", Price: 1, Quantity: 1}, {SKU: "b", Price: 2, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 3 || strings.Join(delivered, ",") != strings.Join(ids, ",") {
		t.Fatalf("delivered %v, tracked %v", delivered, ids)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, opt := range map[string]tracker.EmitterOption{
		"batch":    tracker.WithBatchSize(0),
		"method":   tracker.WithMethod("PUT"),
		"bytes":    tracker.WithByteLimitPost(10),
		"retry":    tracker.WithRetryPolicy(tracker.RetryPolicy{MaxAttempts: 0}),
		"jitter":   tracker.WithRetryPolicy(tracker.RetryPolicy{MaxAttempts: 1, Multiplier: 1, Jitter: 2}),
		"header":   tracker.WithHeader("Bad Name", "x"),
		"path":     tracker.WithPaths("i", ""),
		"capacity": tracker.WithQueueCapacity(0, tracker.DropNewest),
	} {
		if _, err := tracker.NewEmitter("http://127.0.0.1:1", opt); !errors.Is(err, tracker.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := tracker.NewEmitter("ftp://x"); !errors.Is(err, tracker.ErrInvalidConfig) {
		t.Errorf("ftp endpoint: %v", err)
	}
}

func TestFullBatchesWaitAfterExhaustedRetries(t *testing.T) {
	c := newCollector(t, answer{status: 500}, answer{status: 500})
	p := fastRetry(2)
	p.MaxBackoff = time.Hour // the hold after a failed round lasts this long
	p.InitialBackoff = time.Millisecond
	tr := newTracker(t, c, nil, tracker.WithRetryPolicy(p))
	a := track(t, tr, pv("https://a.example/a"))
	c.waitRequests(2) // both attempts failed: the event stays queued
	b := track(t, tr, pv("https://a.example/b"))
	time.Sleep(100 * time.Millisecond)
	if n := len(c.requests()); n != 2 {
		t.Fatalf("%d requests: a full batch must not hammer a collector that just failed", n)
	}
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	d := c.delivered(t)
	if len(d) != 2 || d[0]["eid"] != a || d[1]["eid"] != b {
		t.Fatalf("Flush still sends, in order: %v", d)
	}
}

func TestConcurrentTrackDeliversEachEventOnce(t *testing.T) {
	c := newCollector(t, answer{status: 503}, answer{drop: true})
	tr := newTracker(t, c, nil, tracker.WithBatchSize(20))
	var wg sync.WaitGroup
	var mu sync.Mutex
	tracked := map[string]bool{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				id := track(t, tr, pv("https://a.example/"))
				mu.Lock()
				tracked[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range c.delivered(t) {
		seen[ev["eid"]]++
	}
	if len(seen) != len(tracked) {
		t.Fatalf("%d distinct events delivered, %d tracked", len(seen), len(tracked))
	}
	for id, n := range seen {
		if !tracked[id] || n != 1 {
			t.Fatalf("event %s delivered %d times (tracked: %v)", id, n, tracked[id])
		}
	}
}

func TestOversizedGetEvent(t *testing.T) {
	c := newCollector(t)
	var f failures
	tr := newTracker(t, c, &f, tracker.WithMethod(tracker.MethodGET), tracker.WithByteLimitGet(300))
	big := track(t, tr, pv("https://a.example/"+strings.Repeat("p", 400)))
	if err := flush(t, tr); err != nil {
		t.Fatal(err)
	}
	if got := f.list(); len(got) != 1 || got[0].Reason != tracker.ReasonOversized || got[0].EventIDs[0] != big {
		t.Fatalf("failures %+v", got)
	}
	if n := len(c.requests()); n != 0 {
		t.Fatalf("%d requests for an event over the GET limit", n)
	}
}

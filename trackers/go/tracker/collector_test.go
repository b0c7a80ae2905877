package tracker_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCollector is a real HTTP server on loopback that records every request and answers
// from a script (then 200), so tests observe the wire, not the tracker's internals.
type fakeCollector struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    []recorded
	script []answer
	notify chan struct{}
}

type answer struct {
	status     int
	retryAfter string
	drop       bool
	delay      time.Duration
}

type recorded struct {
	at      time.Time
	method  string
	path    string
	query   url.Values
	rawQry  string
	body    []byte
	header  http.Header
	status  int
	dropped bool
}

func newCollector(t *testing.T, script ...answer) *fakeCollector {
	t.Helper()
	c := &fakeCollector{t: t, script: script, notify: make(chan struct{}, 1000)}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *fakeCollector) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	a := answer{status: 200}
	if len(c.script) > 0 {
		a, c.script = c.script[0], c.script[1:]
	}
	c.got = append(c.got, recorded{at: time.Now(), method: r.Method, path: r.URL.Path,
		query: r.URL.Query(), rawQry: r.URL.RawQuery, body: body, header: r.Header.Clone(),
		status: a.status, dropped: a.drop})
	c.mu.Unlock()
	c.notify <- struct{}{}
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		}
	}
	if a.drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
}

func (c *fakeCollector) URL() string { return c.srv.URL }

func (c *fakeCollector) requests() []recorded {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recorded(nil), c.got...)
}

// waitRequests waits until n requests arrived (up to 10 s).
func (c *fakeCollector) waitRequests(n int) []recorded {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for len(c.requests()) < n {
		select {
		case <-c.notify:
		case <-deadline:
			c.t.Fatalf("waited for %d requests, got %d", n, len(c.requests()))
		}
	}
	return c.requests()
}

// events decodes the wire events of a request (GET querystring or POST payload_data).
func (r recorded) events(t *testing.T) []map[string]string {
	t.Helper()
	if r.method == http.MethodGet {
		ev := map[string]string{}
		for k, v := range r.query {
			ev[k] = v[len(v)-1]
		}
		return []map[string]string{ev}
	}
	var env struct {
		Schema string              `json:"schema"`
		Data   []map[string]string `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("POST body is not payload_data JSON: %v\n%s", err, r.body)
	}
	if env.Schema != "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4" {
		t.Fatalf("POST schema %q", env.Schema)
	}
	return env.Data
}

// delivered is every event of every request answered 2xx, in order.
func (c *fakeCollector) delivered(t *testing.T) []map[string]string {
	var out []map[string]string
	for _, r := range c.requests() {
		if r.status >= 200 && r.status < 300 && !r.dropped {
			out = append(out, r.events(t)...)
		}
	}
	return out
}

// decodeJSONParam reads co/ue_pr (plain JSON) or cx/ue_px (base64url, padded or not).
func decodeJSONParam(t *testing.T, name, value string) any {
	t.Helper()
	text := value
	if name == "cx" || name == "ue_px" {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
		if err != nil {
			t.Fatalf("%s is not base64url: %v", name, err)
		}
		text = string(b)
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("%s is not JSON: %v (%s)", name, err, text)
	}
	return v
}

package tracker_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"plowline.dev/trackers/go/internal/neutral"
	"plowline.dev/trackers/go/tracker"
)

// vectorsDir is spec/vectors/tracker in the repository (this file is trackers/go/tracker/).
var vectorsDir = filepath.Join("..", "..", "..", "spec", "vectors", "tracker")

type vector struct {
	ID      string `yaml:"id"`
	Kind    string `yaml:"kind"`
	Tracker struct {
		Namespace    string `yaml:"namespace"`
		AppID        string `yaml:"app_id"`
		Platform     string `yaml:"platform"`
		EncodeBase64 bool   `yaml:"encode_base64"`
	} `yaml:"tracker"`
	Subject  map[string]any `yaml:"subject"`
	ClockMs  int64          `yaml:"clock_ms"`
	EventID  string         `yaml:"event_id"`
	EventIDs []string       `yaml:"event_ids"`
	Method   string         `yaml:"method"`
	Event    map[string]any `yaml:"event"`
	Expect   struct {
		expectation `yaml:",inline"`
		Events      []expectation `yaml:"events"`
	} `yaml:"expect"`
}

type expectation struct {
	Params  map[string]string `yaml:"params"`
	Decoded map[string]any    `yaml:"decoded"`
	Present []string          `yaml:"present"`
	Absent  []string          `yaml:"absent"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(vectorsDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tracker vectors under %s (err %v)", vectorsDir, err)
	}
	sort.Strings(files)
	var out []vector
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vector
		if err := yaml.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v.Kind != "tracker_call" {
			t.Fatalf("%s: kind %q", f, v.Kind)
		}
		out = append(out, v)
	}
	return out
}

func jsonOf(t *testing.T, v any) json.RawMessage {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normal is v after a JSON round trip, so YAML ints and JSON floats compare alike.
func normal(t *testing.T, v any) any {
	t.Helper()
	var out any
	if err := json.Unmarshal(jsonOf(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWireVectors runs every tracker_call vector of spec/vectors through a real emitter to a
// loopback collector and compares the wire with the vector's expectations.
func TestWireVectors(t *testing.T) {
	vectors := loadVectors(t)
	for _, v := range vectors {
		t.Run(v.ID, func(t *testing.T) {
			c := newCollector(t)
			clock := func() time.Time { return time.UnixMilli(v.ClockMs) }
			ids := append([]string(nil), v.EventIDs...)
			if v.EventID != "" {
				ids = []string{v.EventID}
			}
			next := func() string {
				if len(ids) == 0 {
					t.Fatal("the tracker asked for more event ids than the vector gives")
				}
				id := ids[0]
				ids = ids[1:]
				return id
			}
			e, err := tracker.NewEmitter(c.URL(), tracker.WithMethod(tracker.Method(v.Method)),
				tracker.WithBatchSize(1), tracker.WithFlushInterval(0), tracker.WithEmitterClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			opts := []tracker.Option{tracker.WithNamespace(v.Tracker.Namespace),
				tracker.WithAppID(v.Tracker.AppID), tracker.WithPlatform(tracker.Platform(v.Tracker.Platform)),
				tracker.WithBase64(v.Tracker.EncodeBase64), tracker.WithClock(clock),
				tracker.WithEventIDFactory(next)}
			subject, err := neutral.Subject(jsonOf(t, v.Subject))
			if err != nil {
				t.Fatal(err)
			}
			if subject != nil {
				opts = append(opts, tracker.WithSubject(*subject))
			}
			tr, err := tracker.New(e, opts...)
			if err != nil {
				t.Fatal(err)
			}
			ev, topts, err := neutral.Event(jsonOf(t, v.Event))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.Track(ev, topts...)
			if err != nil {
				t.Fatalf("track: %v", err)
			}
			if err := tr.Close(ctxTimeout(t, 10*time.Second)); err != nil {
				t.Fatalf("close: %v", err)
			}
			expected := v.Expect.Events
			if expected == nil {
				expected = []expectation{v.Expect.expectation}
			}
			wantIDs := v.EventIDs
			if v.EventID != "" {
				wantIDs = []string{v.EventID}
			}
			if !reflect.DeepEqual(got, wantIDs) {
				t.Errorf("Track returned ids %v, want %v", got, wantIDs)
			}
			wire := c.delivered(t)
			if len(wire) != len(expected) {
				t.Fatalf("%d wire events, want %d", len(wire), len(expected))
			}
			for i, want := range expected {
				checkEvent(t, i, wire[i], want)
			}
			for _, r := range c.requests() {
				if r.method != v.Method {
					t.Errorf("request method %s, want %s", r.method, v.Method)
				}
			}
		})
	}
}

func checkEvent(t *testing.T, i int, got map[string]string, want expectation) {
	t.Helper()
	for k, v := range want.Params {
		if got[k] != v {
			t.Errorf("event %d: %s = %q, want %q", i, k, got[k], v)
		}
	}
	for k, v := range want.Decoded {
		raw, ok := got[k]
		if !ok {
			t.Errorf("event %d: %s missing", i, k)
			continue
		}
		if g, w := normal(t, decodeJSONParam(t, k, raw)), normal(t, v); !reflect.DeepEqual(g, w) {
			t.Errorf("event %d: %s decodes to\n%s\nwant\n%s", i, k, jsonOf(t, g), jsonOf(t, w))
		}
	}
	for _, k := range want.Present {
		if got[k] == "" {
			t.Errorf("event %d: %s must be present and non-empty", i, k)
		}
	}
	for _, k := range want.Absent {
		if _, ok := got[k]; ok {
			t.Errorf("event %d: %s must be absent, got %q", i, k, got[k])
		}
	}
	for _, k := range []string{"e", "tv", "eid", "p"} {
		if got[k] == "" {
			t.Errorf("event %d: %s missing", i, k)
		}
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

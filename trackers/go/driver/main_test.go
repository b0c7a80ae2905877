package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

func reply(t *testing.T, s *session, line string) map[string]any {
	t.Helper()
	out := answer(s, []byte(line))
	// Round-trip through JSON, as the harness reads it.
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEveryAnswerIsOkSkippedOrErrored(t *testing.T) {
	s := &session{}
	defer s.discard(0)
	for line, want := range map[string]struct{ status, kind string }{
		`not json`:                                   {"errored", "protocol"},
		`{"cmd":"hello"}`:                            {"errored", "protocol"},
		`{"cmd":"dance","seq":1}`:                    {"errored", "protocol"},
		`{"cmd":"hello","seq":2,"protocol":2}`:       {"errored", "protocol"},
		`{"cmd":"track","seq":3,"event":{}}`:         {"errored", "protocol"},
		`{"cmd":"flush","seq":4}`:                    {"errored", "protocol"},
		`{"cmd":"hello","seq":5,"protocol":1}`:       {"ok", ""},
		`{"cmd":"hello","seq":6,"protocol":1,"x":1}`: {"errored", "protocol"},
	} {
		got := reply(t, s, line)
		if got["status"] != want.status || (want.kind != "" && got["error_type"] != want.kind) {
			t.Errorf("%s -> %v, want %s/%s", line, got, want.status, want.kind)
		}
	}
	conf := `{"cmd":"configure","seq":7,"endpoint":"http://127.0.0.1:1","method":"POST",` +
		`"tracker":{"namespace":"n","app_id":"a","platform":"web","encode_base64":false}}`
	if got := reply(t, s, conf); got["status"] != "ok" {
		t.Fatalf("configure: %v", got)
	}
	// In order: the refused configure comes last (it leaves no tracker behind).
	for _, c := range []struct{ line, status, kind string }{
		{`{"cmd":"track","seq":8,"event":{"type":"page_view"}}`, "errored", "invalid_argument"},
		{`{"cmd":"track","seq":9,"event":{"type":"page_view","page_url":"u","colour":"red"}}`, "errored", "invalid_argument"},
		{`{"cmd":"track","seq":10,"event":{"type":"page_view","page_url":"u","contexts":{"schema":"x"}}}`, "errored", "invalid_argument"},
		{`{"cmd":"track","seq":11,"event":{"type":"teleport"}}`, "skipped", ""},
		{`{"cmd":"track","seq":12,"event":{"type":"page_view","page_url":"u"},"event_id":"e0000000-0000-4000-8000-000000000001"}`, "ok", ""},
		{`{"cmd":"configure","seq":13,"endpoint":"http://127.0.0.1:1","method":"PUT","tracker":{}}`, "errored", "invalid_argument"},
		{`{"cmd":"track","seq":14,"event":{"type":"page_view","page_url":"u"}}`, "errored", "protocol"},
	} {
		got := reply(t, s, c.line)
		if got["status"] != c.status || (c.kind != "" && got["error_type"] != c.kind) {
			t.Errorf("%s -> %v, want %s/%s", c.line, got, c.status, c.kind)
		}
		if c.status == "skipped" && got["capability"] != "event-teleport" {
			t.Errorf("an unknown event type names its capability: %v", got)
		}
		if c.status == "ok" {
			ids, _ := got["event_ids"].([]any)
			if len(ids) != 1 || ids[0] != "e0000000-0000-4000-8000-000000000001" {
				t.Errorf("track replies the injected id: %v", got)
			}
		}
	}
}

// TestCapabilitiesExist: every capability hello declares is one spec/driver/v1 defines.
func TestCapabilitiesExist(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "spec", "driver", "v1", "capabilities.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Capabilities []struct {
			Name string `yaml:"name"`
		} `yaml:"capabilities"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, c := range doc.Capabilities {
		known[c.Name] = true
	}
	seen := map[string]bool{}
	for _, c := range capabilities {
		if !known[c] {
			t.Errorf("capability %q is not in spec/driver/v1/capabilities.yaml", c)
		}
		if seen[c] {
			t.Errorf("capability %q declared twice", c)
		}
		seen[c] = true
	}
}

func TestSeededIDs(t *testing.T) {
	seed := uint64(3)
	f := &ids{seed: &seed}
	f.queue([]string{"given"})
	for _, want := range []string{"given", "00000003-0000-4000-8000-000000000000", "00000003-0000-4000-8000-000000000001"} {
		if got := f.next(); got != want {
			t.Fatalf("next id %q, want %q", got, want)
		}
	}
}

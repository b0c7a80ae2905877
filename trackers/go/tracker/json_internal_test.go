package tracker

import (
	"encoding/json"
	"testing"
)

// encodePayload must write exactly what encoding/json writes for the same map (sorted keys),
// HTML characters aside, for every kind of character.
func TestEncodePayloadMatchesEncodingJSON(t *testing.T) {
	p := Payload{"e": "pv", "url": "https://a.example/?q=\"x\"&y=<1>", "page": "tab\there\nnew\rline \x00\x1f\\",
		"uni": "é €😀", "ctl": "\x7f", "bad": "a\xffb", "sep": "\u2028\u2029", "": "empty key"}
	var want map[string]string
	if err := json.Unmarshal(encodePayload(p), &want); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, encodePayload(p))
	}
	for k, v := range p {
		if k == "bad" {
			v = "a\ufffdb"
		}
		if want[k] != v {
			t.Errorf("%q round-trips to %q, want %q", k, want[k], v)
		}
	}
	ref, _ := marshalJSON("p", p)
	var a, b map[string]string
	_ = json.Unmarshal(ref, &a)
	_ = json.Unmarshal(encodePayload(p), &b)
	if len(a) != len(b) {
		t.Fatalf("%d keys vs encoding/json's %d", len(b), len(a))
	}
	for k := range a {
		if a[k] != b[k] {
			t.Errorf("%q: %q vs encoding/json's %q", k, b[k], a[k])
		}
	}
}

func FuzzEncodePayload(f *testing.F) {
	f.Add("k", "v")
	f.Add("\x00", "\"\\\xff")
	f.Fuzz(func(t *testing.T, k, v string) {
		var got map[string]string
		if err := json.Unmarshal(encodePayload(Payload{k: v}), &got); err != nil {
			t.Fatalf("not JSON for %q=%q: %v", k, v, err)
		}
		ref, _ := marshalJSON("p", map[string]string{k: v})
		var want map[string]string
		_ = json.Unmarshal(ref, &want)
		for key, val := range want {
			if got[key] != val {
				t.Fatalf("%q=%q decodes to %q, encoding/json to %q", k, v, got[key], val)
			}
		}
	})
}

package tracker_test

import (
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"plowline.dev/trackers/go/tracker"
)

// offline is a tracker whose emitter never sends (no timer, huge batch): for payload tests.
func offline(t *testing.T, opts ...tracker.Option) *tracker.Tracker {
	t.Helper()
	e, err := tracker.NewEmitter("http://127.0.0.1:1", tracker.WithBatchSize(1000), tracker.WithFlushInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(e, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(ctxTimeout(t, 0)) })
	return tr
}

func payload(t *testing.T, tr *tracker.Tracker, ev tracker.Event, opts ...tracker.TrackOption) tracker.Payload {
	t.Helper()
	ps, err := tr.Payloads(ev, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ps[0]
}

func TestInvalidEventsAreRefused(t *testing.T) {
	tr := offline(t)
	for name, ev := range map[string]tracker.Event{
		"page view without url":       tracker.PageView{Title: "t"},
		"structured without action":   tracker.Structured{Category: "c"},
		"structured NaN value":        tracker.Structured{Category: "c", Action: "a", Value: tracker.Float(math.NaN())},
		"mobile screen view bad id":   tracker.ScreenView{Name: "Home", ID: "not-a-uuid"},
		"legacy screen with type":     tracker.ScreenView{Variant: tracker.ScreenLegacy, Name: "n", Type: "feed"},
		"site search without terms":   tracker.SiteSearch{},
		"site search numeric filter":  tracker.SiteSearch{Terms: []string{"a"}, Filters: map[string]any{"n": 1}},
		"item without sku":            tracker.EcommerceTransaction{OrderID: "o", Items: []tracker.TransactionItem{{Price: 1}}},
		"bad node name":               tracker.ChangeForm{NodeName: "DIV"},
		"bad input type":              tracker.FocusForm{NodeName: "INPUT", ElementType: "banana"},
		"self-describing bad schema":  tracker.SelfDescribing{Event: tracker.SDJ("com.acme/x/1-0-0", map[string]any{})},
		"self-describing no data":     tracker.SelfDescribing{Event: tracker.SDJ("iglu:com.acme/x/jsonschema/1-0-0", nil)},
		"invalid UTF-8":               tracker.PageView{URL: "https://a.example/\xff"},
		"link click without target":   tracker.LinkClick{},
		"add to cart without sku":     tracker.AddToCart{Quantity: 1},
		"timing with infinite timing": tracker.Timing{Timing: math.Inf(1)},
	} {
		if _, err := tr.Track(ev); !errors.Is(err, tracker.ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", name, err)
		}
	}
	if _, err := tr.Track(tracker.PageView{URL: "https://a.example/"}, tracker.WithContexts(tracker.SDJ("x", 1))); !errors.Is(err, tracker.ErrInvalidEvent) {
		t.Errorf("bad context: %v", err)
	}
	if n := tr.Emitter().Pending(); n != 0 {
		t.Errorf("%d refused events were queued", n)
	}
}

func TestCommonParameters(t *testing.T) {
	at := time.UnixMilli(1665398554084)
	tr := offline(t, tracker.WithNamespace("ns"), tracker.WithAppID("app"),
		tracker.WithPlatform(tracker.PlatformMobile), tracker.WithClock(func() time.Time { return at }))
	p := payload(t, tr, tracker.PagePing{URL: "https://a.example/", MinX: 0, MaxX: 0, MinY: 0, MaxY: 5},
		tracker.WithTrueTimestamp(at.Add(-time.Second)))
	want := map[string]string{"e": "pp", "tna": "ns", "aid": "app", "p": "mob", "dtm": "1665398554084",
		"ttm": "1665398553084", "tv": tracker.TrackerVersion, "pp_mix": "0", "pp_max": "0", "pp_may": "5"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(p["eid"]) {
		t.Errorf("eid %q is not a v4 UUID", p["eid"])
	}
	if _, ok := p["stm"]; ok {
		t.Error("stm is stamped at send time, not at track time")
	}
	if q := payload(t, tr, tracker.PageView{URL: "https://a.example/"}); q["eid"] == p["eid"] {
		t.Error("two events share an id")
	}
}

func TestNumbersAreShortestDecimal(t *testing.T) {
	tr := offline(t)
	for v, want := range map[float64]string{1.5: "1.5", 2: "2", 0.1: "0.1", 1e21: "1000000000000000000000", -3.25: "-3.25"} {
		p := payload(t, tr, tracker.Structured{Category: "c", Action: "a", Value: tracker.Float(v)})
		if p["se_va"] != want {
			t.Errorf("se_va for %v = %q, want %q", v, p["se_va"], want)
		}
	}
}

func TestSubjectsMerge(t *testing.T) {
	tr := offline(t, tracker.WithSubject(tracker.Subject{UserID: "u", Language: "en", ScreenResolution: tracker.Dimensions{Width: 800, Height: 600}}))
	p := payload(t, tr, tracker.PageView{URL: "https://a.example/"},
		tracker.WithEventSubject(tracker.Subject{UserID: "u2", SessionIndex: 3, NetworkUserID: "n"}))
	for k, v := range map[string]string{"uid": "u2", "lang": "en", "res": "800x600", "vid": "3", "tnuid": "n"} {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	if _, ok := p["nuid"]; ok {
		t.Error("the tracker-set network id travels as tnuid")
	}
	anon := offline(t, tracker.WithAnonymousTracking(), tracker.WithSubject(tracker.Subject{UserID: "u", IPAddress: "1.2.3.4", Language: "en"}))
	q := payload(t, anon, tracker.PageView{URL: "https://a.example/"}, tracker.WithEventSubject(tracker.Subject{DomainUserID: "d"}))
	for _, k := range []string{"uid", "ip", "duid"} {
		if _, ok := q[k]; ok {
			t.Errorf("anonymous tracking sent %s", k)
		}
	}
	if q["lang"] != "en" {
		t.Error("anonymous tracking keeps non-identifying fields")
	}
}

func TestGlobalContexts(t *testing.T) {
	static := tracker.SDJ("iglu:com.acme/static/jsonschema/1-0-0", map[string]any{"a": 1})
	var infos []tracker.EventInfo
	tr := offline(t, tracker.WithBase64(false), tracker.WithGlobalContexts(static),
		tracker.WithContextGenerator(func(i tracker.EventInfo) []tracker.SelfDescribingJSON {
			infos = append(infos, i)
			return []tracker.SelfDescribingJSON{tracker.SDJ("iglu:com.acme/gen/jsonschema/1-0-0", map[string]any{"e": i.Type})}
		}))
	p := payload(t, tr, tracker.LinkClick{TargetURL: "https://a.example/"},
		tracker.WithContexts(tracker.SDJ("iglu:com.acme/own/jsonschema/1-0-0", map[string]any{})))
	var co struct {
		Schema string `json:"schema"`
		Data   []struct {
			Schema string         `json:"schema"`
			Data   map[string]any `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(p["co"]), &co); err != nil {
		t.Fatal(err)
	}
	var schemas []string
	for _, d := range co.Data {
		schemas = append(schemas, d.Schema)
	}
	want := "iglu:com.acme/static/jsonschema/1-0-0 iglu:com.acme/own/jsonschema/1-0-0 iglu:com.acme/gen/jsonschema/1-0-0"
	if co.Schema != tracker.ContextsSchema || strings.Join(schemas, " ") != want {
		t.Fatalf("co %s", p["co"])
	}
	if len(infos) != 1 || infos[0].Type != "ue" || infos[0].Schema != tracker.LinkClickSchema {
		t.Fatalf("generator saw %+v", infos)
	}
	tr.ClearGlobalContexts()
	if p := payload(t, tr, tracker.PageView{URL: "https://a.example/"}); p["co"] != "" {
		t.Fatalf("contexts after ClearGlobalContexts: %s", p["co"])
	}
}

func TestJSONKeepsHTMLCharacters(t *testing.T) {
	tr := offline(t, tracker.WithBase64(false))
	p := payload(t, tr, tracker.SelfDescribing{Event: tracker.SDJ("iglu:com.acme/x/jsonschema/1-0-0", map[string]any{"q": "<a&b>"})})
	if !strings.Contains(p["ue_pr"], `"<a&b>"`) {
		t.Fatalf("ue_pr %s: <, & and > must not be escaped", p["ue_pr"])
	}
}

func TestTrackerOptionErrors(t *testing.T) {
	e, err := tracker.NewEmitter("http://127.0.0.1:1", tracker.WithFlushInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctxTimeout(t, 0))
	if _, err := tracker.New(e, tracker.WithPlatform("desktop")); !errors.Is(err, tracker.ErrInvalidConfig) {
		t.Errorf("unknown platform: %v", err)
	}
	if _, err := tracker.New(nil); !errors.Is(err, tracker.ErrInvalidConfig) {
		t.Errorf("nil emitter: %v", err)
	}
}

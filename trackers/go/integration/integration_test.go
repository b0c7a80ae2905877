// Package integration sends events through a real Plowline pipeline (`plowline up`: collector,
// enricher, store) and reads them back from its Snowplow-Micro-compatible API. ci.sh starts
// the pipeline and sets PLOWLINE_UP_URL; without it the test skips, except under CI=true,
// where it fails.
package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"plowline.dev/trackers/go/tracker"
)

func upURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("PLOWLINE_UP_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PLOWLINE_UP_URL is not set: under CI the integration test must run (ci.sh starts plowline up)")
		}
		t.Skip("PLOWLINE_UP_URL is not set (run trackers/go/ci.sh, which starts plowline up)")
	}
	return strings.TrimRight(u, "/")
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

type goodItem struct {
	EventType string         `json:"eventType"`
	Schema    string         `json:"schema"`
	Contexts  []string       `json:"contexts"`
	Event     map[string]any `json:"event"`
}

func allEvents() []tracker.Event {
	sku := tracker.Float(9.5)
	return []tracker.Event{
		tracker.PageView{URL: "https://shop.example/p?q=1", Title: "Product", Referrer: "https://search.example/"},
		tracker.PagePing{URL: "https://shop.example/p", MinX: 0, MaxX: 10, MinY: 0, MaxY: 300},
		tracker.Structured{Category: "shop", Action: "add", Label: "sku-1", Property: "red", Value: tracker.Float(2.5)},
		tracker.SelfDescribing{Event: tracker.SDJ("iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
			map[string]any{"targetUrl": "https://a.example/"})},
		tracker.ScreenView{Name: "Home", ID: tracker.NewEventID(), Type: "feed"},
		tracker.ScreenView{Variant: tracker.ScreenLegacy, Name: "Settings", ID: "settings"},
		tracker.LinkClick{TargetURL: "https://a.example/x", ElementClasses: []string{"btn"}},
		tracker.SubmitForm{FormID: "signup", Elements: []tracker.FormElement{{Name: "email", Value: tracker.String("a@b.example"), NodeName: "INPUT", Type: "email"}}},
		tracker.ChangeForm{FormID: "f", ElementID: "e", NodeName: "INPUT", Value: tracker.String("v"), ElementType: "text"},
		tracker.FocusForm{FormID: "f", ElementID: "e", NodeName: "TEXTAREA"},
		tracker.SiteSearch{Terms: []string{"shoes"}, Filters: map[string]any{"size": "42", "new": true}, TotalResults: tracker.Int(10)},
		tracker.Timing{Category: "load", Variable: "paint", Timing: 231, Label: "home"},
		tracker.EcommerceTransaction{OrderID: "o-1", TotalValue: 19, Currency: "EUR",
			Items: []tracker.TransactionItem{{SKU: "s-1", Price: 9.5, Quantity: 2, Name: "Socks"}}},
		tracker.AddToCart{SKU: "s-1", Quantity: 1, UnitPrice: sku, Currency: "EUR"},
		tracker.RemoveFromCart{SKU: "s-1", Quantity: 1},
	}
}

// TestEventsComeOutGood tracks every event type over GET and POST, base64 on and off, with
// entities, a subject, a true timestamp and custom headers, and checks that every one is
// enriched as a good event with the id, type and tracker version it was sent with.
func TestEventsComeOutGood(t *testing.T) {
	base := upURL(t)
	var before struct{ Good, Bad int }
	getJSON(t, base+"/micro/all", &before)

	var mu sync.Mutex
	var failures []tracker.Failure
	var sent []string
	for _, method := range []tracker.Method{tracker.MethodGET, tracker.MethodPOST} {
		for _, b64 := range []bool{false, true} {
			e, err := tracker.NewEmitter(base, tracker.WithMethod(method), tracker.WithBatchSize(4),
				tracker.WithHeader("X-Plowline-Test", "go-integration"),
				tracker.WithFailureCallback(func(f tracker.Failure) {
					mu.Lock()
					failures = append(failures, f)
					mu.Unlock()
				}))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := tracker.New(e, tracker.WithNamespace("go-it"), tracker.WithAppID("go-integration"),
				tracker.WithPlatform(tracker.PlatformServer), tracker.WithBase64(b64),
				tracker.WithSubject(tracker.Subject{UserID: "u-1", Language: "en-GB", ScreenResolution: tracker.Dimensions{Width: 1920, Height: 1080}}),
				tracker.WithGlobalContexts(tracker.SDJ("iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
					map[string]any{"id": tracker.NewEventID()})))
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range allEvents() {
				ids, err := tr.Track(ev, tracker.WithTrueTimestamp(time.UnixMilli(1665398554084)),
					tracker.WithEventSubject(tracker.Subject{SessionIndex: 2}))
				if err != nil {
					t.Fatalf("track %T: %v", ev, err)
				}
				sent = append(sent, ids...)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			if err := tr.Close(ctx); err != nil {
				t.Fatalf("%s base64=%v: close: %v", method, b64, err)
			}
			cancel()
		}
	}
	if len(failures) > 0 {
		t.Fatalf("delivery failures: %v", failures)
	}

	// The pipeline enriches asynchronously: poll until every event is accounted for.
	deadline := time.Now().Add(90 * time.Second)
	var counts struct{ Good, Bad int }
	for {
		getJSON(t, base+"/micro/all", &counts)
		if counts.Good+counts.Bad >= before.Good+before.Bad+len(sent) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if counts.Bad != before.Bad {
		var bad []map[string]any
		getJSON(t, base+"/micro/bad", &bad)
		t.Fatalf("%d bad event(s): %v", counts.Bad-before.Bad, bad)
	}
	var good []goodItem
	getJSON(t, base+"/micro/good", &good)
	byID := map[string]goodItem{}
	for _, g := range good {
		byID[fmt.Sprint(g.Event["event_id"])] = g
	}
	var missing []string
	types := map[string]int{}
	for _, id := range sent {
		g, ok := byID[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		types[g.EventType]++
		if v := g.Event["v_tracker"]; v != tracker.TrackerVersion {
			t.Errorf("%s: v_tracker %v, want %s", id, v, tracker.TrackerVersion)
		}
		if v := g.Event["app_id"]; v != "go-integration" {
			t.Errorf("%s: app_id %v", id, v)
		}
		if v := g.Event["user_id"]; v != "u-1" {
			t.Errorf("%s: user_id %v", id, v)
		}
		if v := g.Event["true_tstamp"]; v == nil {
			t.Errorf("%s: no true_tstamp", id)
		}
		if !contains(g.Contexts, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0") {
			t.Errorf("%s: the global context is missing: %v", id, g.Contexts)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d events not found among the good events: %v", len(missing), len(sent), missing)
	}
	// 4 runs x (15 events + 1 transaction item); 11 of the 15 are self-describing.
	want := map[string]int{"page_view": 4, "page_ping": 4, "struct": 4, "unstruct": 44, "transaction": 4, "transaction_item": 4}
	if fmt.Sprint(sortedCounts(types)) != fmt.Sprint(sortedCounts(want)) {
		t.Errorf("event types %v, want %v", types, want)
	}
}

// TestServerAnonymisation: with SP-Anonymous the collector keeps no network user id.
func TestServerAnonymisation(t *testing.T) {
	base := upURL(t)
	e, err := tracker.NewEmitter(base, tracker.WithServerAnonymisation(), tracker.WithBatchSize(1))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(e, tracker.WithAppID("go-anon"), tracker.WithAnonymousTracking(),
		tracker.WithSubject(tracker.Subject{UserID: "must-not-be-sent", IPAddress: "198.51.100.7"}))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tr.Track(tracker.PageView{URL: "https://a.example/anon"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var good []goodItem
		getJSON(t, base+"/micro/good", &good)
		for _, g := range good {
			if g.Event["event_id"] != ids[0] {
				continue
			}
			if g.Event["user_id"] != nil {
				t.Errorf("user_id %v was sent with anonymous tracking", g.Event["user_id"])
			}
			if ip := g.Event["user_ipaddress"]; ip == "198.51.100.7" {
				t.Errorf("the subject's IP address was sent with anonymous tracking")
			}
			if n := g.Event["network_userid"]; n != nil && n != "00000000-0000-0000-0000-000000000000" {
				t.Errorf("network_userid %v with SP-Anonymous", n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the anonymous event never came out good")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedCounts(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

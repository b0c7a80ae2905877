package tracker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"plowline.dev/trackers/go/tracker"
)

// The README's quickstart, against a loopback collector.
func Example() {
	collector := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer collector.Close()

	e, _ := tracker.NewEmitter(collector.URL)
	t, _ := tracker.New(e, tracker.WithNamespace("web"), tracker.WithAppID("shop"))
	ids, err := t.Track(tracker.PageView{URL: "https://shop.example/"},
		tracker.WithContexts(tracker.SDJ("iglu:com.acme/cart/jsonschema/1-0-0", map[string]any{"items": 2})))
	fmt.Println(len(ids), err)
	fmt.Println(t.Close(context.Background()), e.Pending())
	// Output:
	// 1 <nil>
	// <nil> 0
}

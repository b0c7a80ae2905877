// Command bench prints the Go tracker's figures, each beside a baseline measured in the same
// run (run by trackers/go/bench.sh, i.e. `nox -s bench -- go`):
//
//   - track: time per Track call on the caller's goroutine (validation, entities, JSON and
//     base64, queueing), against building the same wire payload by hand (a map and
//     encoding/json, nothing else);
//   - throughput: sustained events/s through a real collector (PLOWLINE_UP_URL, a running
//     `plowline up`), against a raw loop of HTTP POSTs of pre-built payload_data bodies with
//     the same batch size.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"plowline.dev/trackers/go/tracker"
)

var entity = tracker.SDJ("iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
	map[string]any{"id": "f7b4db2b-bab2-59b8-8df1-4676fd799d9b"})

func event(i int) tracker.Event {
	return tracker.Structured{Category: "shop", Action: "add-to-basket", Label: "sku-" + strconv.Itoa(i),
		Property: "red", Value: tracker.Float(12.5)}
}

// handBuilt is the baseline: the same wire parameters, assembled directly.
func handBuilt(i int, now time.Time) []byte {
	co, _ := json.Marshal(map[string]any{"schema": tracker.ContextsSchema,
		"data": []any{map[string]any{"schema": entity.Schema, "data": entity.Data}}})
	p := map[string]string{"e": "se", "se_ca": "shop", "se_ac": "add-to-basket",
		"se_la": "sku-" + strconv.Itoa(i), "se_pr": "red", "se_va": "12.5",
		"cx": base64.URLEncoding.EncodeToString(co), "tv": tracker.TrackerVersion, "p": "srv",
		"tna": "bench", "aid": "bench", "uid": "user-1", "dtm": strconv.FormatInt(now.UnixMilli(), 10),
		"eid": tracker.NewEventID()}
	b, _ := json.Marshal(p)
	return b
}

func newTracker(endpoint string, batch int) (*tracker.Tracker, error) {
	e, err := tracker.NewEmitter(endpoint, tracker.WithBatchSize(batch), tracker.WithFlushInterval(0),
		tracker.WithQueueCapacity(1_000_000, tracker.DropNewest))
	if err != nil {
		return nil, err
	}
	return tracker.New(e, tracker.WithNamespace("bench"), tracker.WithAppID("bench"),
		tracker.WithSubject(tracker.Subject{UserID: "user-1"}), tracker.WithGlobalContexts(entity))
}

func trackFigures() error {
	var failed error
	trackRes := testing.Benchmark(func(b *testing.B) {
		// An emitter that holds every event (no send during the timing): the figure is the
		// caller's side alone, not the worker competing for the same two cores.
		e, err := tracker.NewEmitter("http://127.0.0.1:1", tracker.WithBatchSize(b.N+1),
			tracker.WithFlushInterval(0), tracker.WithQueueCapacity(b.N+1, tracker.DropNewest))
		if err != nil {
			failed = err
			b.FailNow()
		}
		tr, err := tracker.New(e, tracker.WithNamespace("bench"), tracker.WithAppID("bench"),
			tracker.WithSubject(tracker.Subject{UserID: "user-1"}), tracker.WithGlobalContexts(entity))
		if err != nil {
			failed = err
			b.FailNow()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := tr.Track(event(i)); err != nil {
				failed = err
				b.FailNow()
			}
		}
		b.StopTimer()
		expired, cancel := context.WithCancel(context.Background())
		cancel()
		_ = tr.Close(expired) // drop what was held
	})
	if failed != nil {
		return failed
	}
	handRes := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		now := time.Now()
		for i := 0; i < b.N; i++ {
			_ = handBuilt(i, now)
		}
	})
	t, h := float64(trackRes.NsPerOp()), float64(handRes.NsPerOp())
	fmt.Printf("track call (caller's goroutine): %8.0f ns/op %5d B/op %3d allocs/op\n",
		t, trackRes.AllocedBytesPerOp(), trackRes.AllocsPerOp())
	fmt.Printf("  baseline, payload built by hand: %6.0f ns/op %5d B/op %3d allocs/op\n",
		h, handRes.AllocedBytesPerOp(), handRes.AllocsPerOp())
	fmt.Printf("  ratio track / baseline: %.2f\n", t/h)
	return nil
}

func throughput(endpoint string, events, batch int) error {
	tr, err := newTracker(endpoint, batch)
	if err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < events; i++ {
		if _, err := tr.Track(event(i)); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := tr.Close(ctx); err != nil {
		return fmt.Errorf("tracker close: %w", err)
	}
	trackerRate := float64(events) / time.Since(start).Seconds()

	// Baseline: the same number of events in pre-built bodies, POSTed one after another.
	var bodies [][]byte
	now := time.Now()
	for i := 0; i < events; i += batch {
		var buf bytes.Buffer
		buf.WriteString(`{"schema":"` + tracker.PayloadDataSchema + `","data":[`)
		for j := i; j < i+batch && j < events; j++ {
			if j > i {
				buf.WriteByte(',')
			}
			ev := handBuilt(j, now)
			buf.WriteString(`{"stm":"` + strconv.FormatInt(now.UnixMilli(), 10) + `",`)
			buf.Write(ev[1:])
		}
		buf.WriteString("]}")
		bodies = append(bodies, buf.Bytes())
	}
	client := &http.Client{Timeout: time.Minute}
	start = time.Now()
	for _, body := range bodies {
		resp, err := client.Post(endpoint+tracker.DefaultPostPath, "application/json; charset=utf-8", bytes.NewReader(body))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("raw POST: HTTP %d", resp.StatusCode)
		}
	}
	rawRate := float64(events) / time.Since(start).Seconds()
	fmt.Printf("sustained to plowline up (%d events, POST batches of %d): %8.0f events/s\n", events, batch, trackerRate)
	fmt.Printf("  baseline, raw HTTP POST loop of pre-built bodies: %8.0f events/s\n", rawRate)
	fmt.Printf("  ratio tracker / baseline: %.2f\n", trackerRate/rawRate)
	return nil
}

func main() {
	events := flag.Int("events", 5000, "events per throughput run")
	batch := flag.Int("batch", 100, "events per POST in the throughput runs")
	flag.Parse()
	if err := trackFigures(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	url := os.Getenv("PLOWLINE_UP_URL")
	if url == "" {
		fmt.Println("throughput: skipped (PLOWLINE_UP_URL not set; bench.sh starts plowline up)")
		return
	}
	if err := throughput(url, *events, *batch); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

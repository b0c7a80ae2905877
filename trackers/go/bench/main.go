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
	"sort"
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

// trackFigures times Track and the hand-built baseline interleaved, call by call, so both
// see the same load on a shared machine (means over n calls; allocations from one run each).
func trackFigures() error {
	const n = 20000
	e, err := tracker.NewEmitter("http://127.0.0.1:1", tracker.WithBatchSize(n+1),
		tracker.WithFlushInterval(0), tracker.WithQueueCapacity(3*n, tracker.DropNewest))
	if err != nil {
		return err
	}
	tr, err := tracker.New(e, tracker.WithNamespace("bench"), tracker.WithAppID("bench"),
		tracker.WithSubject(tracker.Subject{UserID: "user-1"}), tracker.WithGlobalContexts(entity))
	if err != nil {
		return err
	}
	defer func() {
		expired, cancel := context.WithCancel(context.Background())
		cancel()
		_ = tr.Close(expired) // drop what was held
	}()
	var inTrack, inHand time.Duration
	now := time.Now()
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := tr.Track(event(i)); err != nil {
			return err
		}
		t1 := time.Now()
		_ = handBuilt(i, now)
		inHand += time.Since(t1)
		inTrack += t1.Sub(t0)
	}
	i := n
	trackAllocs := testing.AllocsPerRun(1000, func() { i++; _, _ = tr.Track(event(i)) })
	handAllocs := testing.AllocsPerRun(1000, func() { i++; _ = handBuilt(i, now) })
	t, h := float64(inTrack.Nanoseconds())/n, float64(inHand.Nanoseconds())/n
	fmt.Printf("track call (caller's goroutine, mean of %d, interleaved): %6.0f ns/call %3.0f allocs\n", n, t, trackAllocs)
	fmt.Printf("  baseline, payload built by hand (encoding/json):        %6.0f ns/call %3.0f allocs\n", h, handAllocs)
	fmt.Printf("  ratio track / baseline: %.2f\n", t/h)
	return nil
}

// trackerRun sends events through the tracker and returns events/s (Close waits for all).
func trackerRun(endpoint string, events, batch, offset int) (float64, error) {
	tr, err := newTracker(endpoint, batch)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	for i := 0; i < events; i++ {
		if _, err := tr.Track(event(offset + i)); err != nil {
			return 0, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := tr.Close(ctx); err != nil {
		return 0, fmt.Errorf("tracker close: %w", err)
	}
	return float64(events) / time.Since(start).Seconds(), nil
}

// rawRun POSTs pre-built payload_data bodies of the same events one after another.
func rawRun(endpoint string, events, batch, offset int) (float64, error) {
	var bodies [][]byte
	now := time.Now()
	for i := 0; i < events; i += batch {
		var buf bytes.Buffer
		buf.WriteString(`{"schema":"` + tracker.PayloadDataSchema + `","data":[`)
		for j := i; j < i+batch && j < events; j++ {
			if j > i {
				buf.WriteByte(',')
			}
			ev := handBuilt(offset+j, now)
			buf.WriteString(`{"stm":"` + strconv.FormatInt(now.UnixMilli(), 10) + `",`)
			buf.Write(ev[1:])
		}
		buf.WriteString("]}")
		bodies = append(bodies, buf.Bytes())
	}
	client := &http.Client{Timeout: time.Minute}
	start := time.Now()
	for _, body := range bodies {
		resp, err := client.Post(endpoint+tracker.DefaultPostPath, "application/json; charset=utf-8", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("raw POST: HTTP %d", resp.StatusCode)
		}
	}
	return float64(events) / time.Since(start).Seconds(), nil
}

// drain waits (bounded) until the pipeline has enriched want events, so one run's backlog
// does not slow the next.
func drain(endpoint string, want int) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get(endpoint + "/micro/all")
		if err != nil {
			return err
		}
		var counts struct{ Good, Bad int }
		err = json.NewDecoder(resp.Body).Decode(&counts)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if counts.Good+counts.Bad >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pipeline enriched %d of %d events in 3 minutes", counts.Good+counts.Bad, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// throughput alternates tracker and raw runs (rounds times each, the order swapped every
// round, the pipeline drained in between) and compares their medians.
func throughput(endpoint string, events, batch, rounds int) error {
	var tr, raw []float64
	sent := 0
	for r := 0; r < rounds; r++ {
		runs := []func() error{
			func() error { v, err := trackerRun(endpoint, events, batch, sent); tr = append(tr, v); return err },
			func() error { v, err := rawRun(endpoint, events, batch, sent); raw = append(raw, v); return err },
		}
		if r%2 == 1 {
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, run := range runs {
			if err := run(); err != nil {
				return err
			}
			sent += events
			if err := drain(endpoint, sent); err != nil {
				return err
			}
		}
	}
	t, b := median(tr), median(raw)
	fmt.Printf("sustained to plowline up (%d events per run, POST batches of %d, median of %d): %6.0f events/s\n", events, batch, rounds, t)
	fmt.Printf("  baseline, raw HTTP POST loop of pre-built bodies: %6.0f events/s\n", b)
	fmt.Printf("  ratio tracker / baseline: %.2f  (runs: tracker %v, raw %v)\n", t/b, rounded(tr), rounded(raw))
	return nil
}

func rounded(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

func main() {
	events := flag.Int("events", 3000, "events per throughput run")
	batch := flag.Int("batch", 100, "events per POST in the throughput runs")
	rounds := flag.Int("rounds", 3, "throughput runs of each kind")
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
	if err := throughput(url, *events, *batch, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

package tracker_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"plowline.dev/trackers/go/tracker"
)

func openStore(t *testing.T, path string) *tracker.FileStore {
	t.Helper()
	s, err := tracker.OpenFileStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func payloads(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf(`{"e":"pv","eid":"%d"}`, i))
	}
	return out
}

func TestFileStoreKeepsWhatIsNotRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.journal")
	s := openStore(t, path)
	keys, err := s.Append(payloads(5))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove([]uint64{keys[0], keys[2]}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	defer s.Close()
	recs, _ := s.Load()
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Payload))
	}
	want := []string{`{"e":"pv","eid":"1"}`, `{"e":"pv","eid":"3"}`, `{"e":"pv","eid":"4"}`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("loaded %v, want %v", got, want)
	}
	more, err := s.Append(payloads(1))
	if err != nil || more[0] <= keys[4] {
		t.Fatalf("new key %v after %v (err %v): keys must keep increasing", more, keys, err)
	}
}

func TestFileStoreDropsATornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.journal")
	s := openStore(t, path)
	if _, err := s.Append(payloads(3)); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	info, _ := os.Stat(path)
	// A crash in the middle of the next write: half a record at the end.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.Write([]byte{'A', 200, 0, 0, 0, 1, 2, 3, 4, 'x', 'y'})
	_ = f.Close()
	s = openStore(t, path)
	recs, _ := s.Load()
	if len(recs) != 3 {
		t.Fatalf("%d records survived, want the 3 whole ones", len(recs))
	}
	if now, _ := os.Stat(path); now.Size() != info.Size() {
		t.Fatalf("the torn tail was not cut: %d bytes, want %d", now.Size(), info.Size())
	}
	_ = s.Close()
	// A flipped byte inside the last record fails its CRC: that record goes, earlier ones stay.
	raw, _ := os.ReadFile(path)
	raw[len(raw)-2] ^= 0xff
	_ = os.WriteFile(path, raw, 0o644)
	s = openStore(t, path)
	defer s.Close()
	if recs, _ := s.Load(); len(recs) != 2 {
		t.Fatalf("%d records after corruption, want 2", len(recs))
	}
}

func TestFileStoreCompactsAndEmpties(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.journal")
	s := openStore(t, path)
	defer s.Close()
	big := make([][]byte, 300)
	for i := range big {
		big[i] = make([]byte, 5000)
		for j := range big[i] {
			big[i][j] = 'a'
		}
	}
	keys, err := s.Append(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(keys[:290]); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Size() > 200_000 {
		t.Fatalf("journal is %d bytes after removing 290 of 300 records: not compacted", info.Size())
	}
	if s.Len() != 10 {
		t.Fatalf("%d live records, want 10", s.Len())
	}
	if err := s.Remove(keys[290:]); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Size() != 8 {
		t.Fatalf("an empty journal is %d bytes, want only its header", info.Size())
	}
}

func TestFileStoreIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.journal")
	s := openStore(t, path)
	if _, err := tracker.OpenFileStore(path); !errors.Is(err, tracker.ErrStoreLocked) {
		t.Fatalf("second open: %v, want ErrStoreLocked", err)
	}
	_ = s.Close()
	s2 := openStore(t, path)
	_ = s2.Close()
}

func TestEmitterSendsStoredEventsAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.journal")
	c := newCollector(t, answer{status: 500})
	store := openStore(t, path)
	tr := newTracker(t, c, nil, tracker.WithStore(store), tracker.WithRetryPolicy(fastRetry(1)), tracker.WithBatchSize(10))
	a := track(t, tr, pv("https://a.example/a"))
	b := track(t, tr, pv("https://a.example/b"))
	if err := flush(t, tr); !errors.Is(err, tracker.ErrNotDelivered) {
		t.Fatalf("flush against a 500: %v", err)
	}
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	_ = tr.Close(expired)

	tr2 := newTracker(t, c, nil, tracker.WithStore(openStore(t, path)), tracker.WithBatchSize(10))
	if n := tr2.Emitter().Pending(); n != 2 {
		t.Fatalf("%d events loaded from the store, want 2", n)
	}
	if err := flush(t, tr2); err != nil {
		t.Fatal(err)
	}
	d := c.delivered(t)
	if len(d) != 2 || d[0]["eid"] != a || d[1]["eid"] != b {
		t.Fatalf("delivered %v, want %s then %s", d, a, b)
	}
	_ = tr2.Close(context.Background())
	s := openStore(t, path)
	defer s.Close()
	if s.Len() != 0 {
		t.Fatalf("%d delivered events are still stored", s.Len())
	}
}

// TestFileStoreSurvivesKill9 kills a process that is appending to a journal (SIGKILL, no
// chance to clean up) and checks that every append it reported done is still there, in order.
func TestFileStoreSurvivesKill9(t *testing.T) {
	if path := os.Getenv("PLOWLINE_JOURNAL_WRITER"); path != "" {
		journalWriter(path) // the child: never returns
	}
	path := filepath.Join(t.TempDir(), "events.journal")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreSurvivesKill9$")
	cmd.Env = append(os.Environ(), "PLOWLINE_JOURNAL_WRITER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	done := 0
	for done < 200 && lines.Scan() {
		done++ // one line per append the child finished
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if done < 200 {
		t.Fatalf("the writer stopped after %d appends", done)
	}
	s := openStore(t, path)
	defer s.Close()
	recs, _ := s.Load()
	if len(recs) < done {
		t.Fatalf("%d records after kill -9, but %d appends had completed", len(recs), done)
	}
	for i, r := range recs {
		if want := fmt.Sprintf(`{"e":"pv","eid":"%d"}`, i); string(r.Payload) != want {
			t.Fatalf("record %d is %s, want %s", i, r.Payload, want)
		}
	}
}

func journalWriter(path string) {
	s, err := tracker.OpenFileStore(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if _, err := s.Append([][]byte{[]byte(fmt.Sprintf(`{"e":"pv","eid":"%d"}`, i))}); err != nil {
			os.Exit(3)
		}
		fmt.Println(i)
	}
}

package tracker_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"plowline.dev/trackers/go/tracker"
)

// TestDeliveryRulesMatchTheSpec reads spec/delivery/rules.yaml, the delivery rules every
// Plowline tracker shares, and fails when this tracker's defaults drift from it.
func TestDeliveryRulesMatchTheSpec(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "spec", "delivery", "rules.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("spec/delivery/rules.yaml is not in this checkout")
	}
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Version int `yaml:"version"`
		Success struct {
			Min int `yaml:"min"`
			Max int `yaml:"max"`
		} `yaml:"success"`
		GiveUp      []int `yaml:"give_up_statuses"`
		MaxAttempts int   `yaml:"max_attempts"`
		Backoff     struct {
			InitialMs  int64   `yaml:"initial_ms"`
			Multiplier float64 `yaml:"multiplier"`
			MaxMs      int64   `yaml:"max_ms"`
			Jitter     float64 `yaml:"jitter"`
		} `yaml:"backoff"`
		RetryAfter struct {
			Honoured bool  `yaml:"honoured"`
			MaxMs    int64 `yaml:"max_ms"`
		} `yaml:"retry_after"`
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	if rules.Version != 1 {
		t.Fatalf("rules version %d: this test reads version 1", rules.Version)
	}
	giveUp := map[int]bool{}
	for _, s := range rules.GiveUp {
		giveUp[s] = true
	}
	for status := 100; status < 600; status++ {
		if status >= rules.Success.Min && status <= rules.Success.Max {
			continue // delivered, never classified
		}
		if got, want := tracker.SnowplowRetryRule(status), !giveUp[status]; got != want {
			t.Errorf("SnowplowRetryRule(%d) = %v, the spec says retry = %v", status, got, want)
		}
	}
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	want := tracker.RetryPolicy{MaxAttempts: rules.MaxAttempts, InitialBackoff: ms(rules.Backoff.InitialMs),
		MaxBackoff: ms(rules.Backoff.MaxMs), Multiplier: rules.Backoff.Multiplier, Jitter: rules.Backoff.Jitter,
		HonourRetryAfter: rules.RetryAfter.Honoured, MaxRetryAfter: ms(rules.RetryAfter.MaxMs)}
	if got := tracker.DefaultRetryPolicy(); got != want {
		t.Errorf("DefaultRetryPolicy() = %+v, the spec says %+v", got, want)
	}
}

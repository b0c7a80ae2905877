package main

import (
	"os"

	"plowline.dev/trackers/go/tracker"
)

// Mutants (trackers/go/mutants/mutants.yaml) are planted here, in the driver, through the
// tracker's public options, when PLOWLINE_MUTANT names one: each models a realistic bug in
// how a Go tracker applies its configuration. The tracker package knows nothing of them;
// with PLOWLINE_MUTANT unset every hook is a no-op.
var mutant = os.Getenv("PLOWLINE_MUTANT")

// mutantEmitterOptions are appended after the real options, so they win.
func mutantEmitterOptions() []tracker.EmitterOption {
	switch mutant {
	case "go-batch-size-ignored": // batch size never applied: every event is sent at once
		return []tracker.EmitterOption{tracker.WithBatchSize(1)}
	case "go-byte-limit-ignored": // POST byte limit never applied: the default stays
		return []tracker.EmitterOption{tracker.WithByteLimitPost(tracker.DefaultByteLimitPost)}
	}
	return nil
}

// mutantTrackerOptions are appended after the real options, so they win.
func mutantTrackerOptions(*session) []tracker.Option {
	if mutant == "go-base64-always-on" { // encode_base64 false is ignored
		return []tracker.Option{tracker.WithBase64(true)}
	}
	return nil
}

// mutantRetryPolicy may spoil the configured retry policy.
func mutantRetryPolicy(p tracker.RetryPolicy) tracker.RetryPolicy {
	if mutant == "go-max-attempts-plus-one" { // the first attempt is not counted
		p.MaxAttempts++
	}
	return p
}

// mutantSkipsStore: the persistence option is accepted and silently not used.
func mutantSkipsStore() bool { return mutant == "go-store-ignored" }

// mutantStickySubject: a per-event subject is written into the tracker's own subject, so it
// leaks into every later event.
func mutantStickySubject(s *session, event *tracker.Subject) {
	if mutant != "go-event-subject-sticks" || event == nil {
		return
	}
	merged := s.subject
	for _, f := range []struct {
		to   *string
		from string
	}{{&merged.UserID, event.UserID}, {&merged.DomainUserID, event.DomainUserID},
		{&merged.NetworkUserID, event.NetworkUserID}, {&merged.IPAddress, event.IPAddress},
		{&merged.UserAgent, event.UserAgent}, {&merged.Timezone, event.Timezone},
		{&merged.Language, event.Language}, {&merged.SessionID, event.SessionID}} {
		if f.from != "" {
			*f.to = f.from
		}
	}
	s.subject = merged
	_ = s.tracker.SetSubject(merged)
}

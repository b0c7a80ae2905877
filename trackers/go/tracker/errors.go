package tracker

import (
	"errors"
	"fmt"
)

// ErrInvalidEvent is wrapped by every error a track call returns for a bad argument, so
// errors.Is(err, ErrInvalidEvent) tells a caller's mistake from a tracker state problem.
var ErrInvalidEvent = errors.New("invalid event")

// ErrInvalidConfig is wrapped by every error a constructor returns for a bad option.
var ErrInvalidConfig = errors.New("invalid configuration")

// ErrClosed is returned by a track call or flush after Close.
var ErrClosed = errors.New("tracker closed")

// ErrQueueFull is returned by a track call whose events the full queue refused
// (overflow policy [DropNewest]); the failure callback hears of them too.
var ErrQueueFull = errors.New("event queue full")

// ErrNotDelivered is wrapped by the error Flush returns when some events were not delivered.
var ErrNotDelivered = errors.New("events not delivered")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidEvent, fmt.Sprintf(format, args...))
}

func badConfig(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// FailureReason says why events were not delivered.
type FailureReason int

const (
	// ReasonOversized: the event alone is larger than the byte limit of its method; it is
	// never sent (sending it could only fail) and is removed from the queue and store.
	ReasonOversized FailureReason = iota + 1
	// ReasonQueueFull: the queue was full; with [DropNewest] these are the events just
	// tracked, with [DropOldest] the oldest queued ones, evicted to make room.
	ReasonQueueFull
	// ReasonRejected: the collector answered with a status the retry rule gives up on
	// (e.g. 400); the events are removed.
	ReasonRejected
	// ReasonRetriesExhausted: every attempt failed with a retryable outcome; the events stay
	// at the head of the queue (and in the store) and go out with the next send.
	ReasonRetriesExhausted
	// ReasonStore: the persistent store failed; the event is kept in memory only.
	ReasonStore
)

func (r FailureReason) String() string {
	switch r {
	case ReasonOversized:
		return "oversized"
	case ReasonQueueFull:
		return "queue-full"
	case ReasonRejected:
		return "rejected"
	case ReasonRetriesExhausted:
		return "retries-exhausted"
	case ReasonStore:
		return "store"
	default:
		return fmt.Sprintf("FailureReason(%d)", int(r))
	}
}

// Failure describes events that were not delivered, given to the failure callback.
type Failure struct {
	Reason FailureReason
	// EventIDs are the eid of each event concerned, in queue order.
	EventIDs []string
	// StatusCode is the last HTTP status (0 when there was no answer or no request).
	StatusCode int
	// Attempts is how many requests were made for these events in this round.
	Attempts int
	// Err is the last transport error, if any.
	Err error
	// Kept reports whether the events are still queued (only ReasonRetriesExhausted and
	// ReasonStore keep them).
	Kept bool
}

func (f Failure) String() string {
	s := fmt.Sprintf("%s: %d event(s)", f.Reason, len(f.EventIDs))
	if f.StatusCode != 0 {
		s += fmt.Sprintf(", HTTP %d", f.StatusCode)
	}
	if f.Err != nil {
		s += ", " + f.Err.Error()
	}
	return s
}

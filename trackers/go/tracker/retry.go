package tracker

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryRule says whether a non-2xx HTTP status is worth another attempt. Connection errors
// and timeouts are always retried; a 2xx is always success.
type RetryRule func(status int) bool

// SnowplowRetryRule is the default: retry every status except 400, 401, 403, 410 and 422,
// which mean the request will never be accepted. It is the default of Snowplow's trackers
// (the JavaScript tracker's dontRetryStatusCodes, https://snowplow.github.io/snowplow-javascript-tracker/docs/browser-tracker/markdown/browser-tracker.emitterconfigurationbase)
// and Plowline's delivery rules (spec/delivery/rules.yaml).
func SnowplowRetryRule(status int) bool {
	switch status {
	case 400, 401, 403, 410, 422:
		return false
	}
	return true
}

// ClientErrorsFinalRetryRule retries 5xx, 408, 429 and every non-4xx status and gives up on
// every other 4xx (a stricter alternative to the default, for collectors behind proxies
// that answer 404 or 413 for requests that can never succeed).
func ClientErrorsFinalRetryRule(status int) bool {
	if status >= 400 && status < 500 {
		return status == 408 || status == 429
	}
	return true
}

// RetryRuleExcept retries everything except the given statuses (Snowplow's
// "dontRetryStatusCodes" style).
func RetryRuleExcept(statuses ...int) RetryRule {
	final := map[int]bool{}
	for _, s := range statuses {
		final[s] = true
	}
	return func(status int) bool { return !final[status] }
}

// RetryPolicy is how often and how patiently a request is attempted.
//
// The wait after the n-th failed attempt is min(MaxBackoff, InitialBackoff·Multiplierⁿ⁻¹),
// shortened by a random fraction of at most Jitter (so clients that failed together do not
// retry together). When HonourRetryAfter is set, a Retry-After header (delta-seconds or
// HTTP-date) replaces that wait, capped at MaxRetryAfter.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt: 1 means no retry.
	MaxAttempts      int
	InitialBackoff   time.Duration
	MaxBackoff       time.Duration
	Multiplier       float64
	Jitter           float64 // 0 (none) .. 1
	HonourRetryAfter bool
	MaxRetryAfter    time.Duration
}

// DefaultRetryPolicy: 5 attempts, 250 ms doubling to at most 30 s, jitter 0.5, Retry-After
// honoured up to 5 minutes (the defaults of spec/delivery/rules.yaml; a test checks them).
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 30 * time.Second,
		Multiplier: 2, Jitter: 0.5, HonourRetryAfter: true, MaxRetryAfter: 5 * time.Minute}
}

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxAttempts < 1:
		return badConfig("retry: MaxAttempts must be >= 1, got %d", p.MaxAttempts)
	case p.InitialBackoff < 0 || p.MaxBackoff < 0 || p.MaxRetryAfter < 0:
		return badConfig("retry: durations must not be negative")
	case math.IsNaN(p.Multiplier) || p.Multiplier < 1 || math.IsInf(p.Multiplier, 0):
		return badConfig("retry: Multiplier must be a finite number >= 1, got %v", p.Multiplier)
	case math.IsNaN(p.Jitter) || p.Jitter < 0 || p.Jitter > 1:
		return badConfig("retry: Jitter must be within [0, 1], got %v", p.Jitter)
	}
	return nil
}

// Backoff is the wait after the failed-th failed attempt (1-based) for a uniform random
// number r in [0, 1).
func (p RetryPolicy) Backoff(failed int, r float64) time.Duration {
	exp := failed - 1
	if exp < 0 {
		exp = 0
	}
	if exp > 64 {
		exp = 64
	}
	raw := float64(p.InitialBackoff) * math.Pow(p.Multiplier, float64(exp))
	if limit := float64(p.MaxBackoff); raw > limit {
		raw = limit
	}
	return time.Duration(raw * (1 - p.Jitter*r))
}

// wait is the pause before the next attempt: Retry-After when honoured and valid, else the
// back-off.
func (p RetryPolicy) wait(failed int, r float64, retryAfter string, now time.Time) time.Duration {
	if p.HonourRetryAfter && retryAfter != "" {
		if d, ok := ParseRetryAfter(retryAfter, now); ok {
			if d > p.MaxRetryAfter {
				d = p.MaxRetryAfter
			}
			return d
		}
	}
	return p.Backoff(failed, r)
}

// ParseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3): delta-seconds or an
// HTTP-date, relative to now. ok is false for anything else.
func ParseRetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(value, 10, 32); err == nil {
		return time.Duration(n) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if d := at.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

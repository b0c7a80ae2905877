// Package tracker sends events to a collector that speaks the Snowplow tracker protocol
// (Plowline's collector, Snowplow's own, Snowplow Micro).
//
// A [Tracker] turns typed events ([PageView], [Structured], [SelfDescribing], ...) into wire
// parameters on the caller's goroutine, validating them first; an [Emitter] queues them and
// sends them from one worker goroutine with GET or POST (payload_data 1-0-4), batching by
// count and bytes, retrying with capped, jittered exponential back-off and Retry-After, and
// optionally keeping unsent events in a crash-safe file journal ([OpenFileStore]).
//
//	e, _ := tracker.NewEmitter("https://collector.example.com")
//	t, _ := tracker.New(e, tracker.WithNamespace("web"), tracker.WithAppID("shop"))
//	defer t.Close(context.Background())
//	ids, err := t.Track(tracker.PageView{URL: "https://shop.example/"})
//
// Delivery rules: only a 2xx answer delivers a request. Any other answer, a connection error
// or a timeout is retried, except the statuses the [RetryRule] gives up on (by default
// Snowplow's documented set: 400, 401, 403, 410 and 422). An event too large to send, an event
// the full queue cannot take and a request given up on are reported to the failure callback
// ([WithFailureCallback]) with a typed [FailureReason]; nothing is dropped silently.
//
// The wire format is Plowline's spec (spec/protocol/parameters.yaml, spec/vectors/FORMAT.md
// in the repository), which follows the Snowplow tracker protocol documentation at
// https://docs.snowplow.io/docs/events/going-deeper/event-parameters.
package tracker

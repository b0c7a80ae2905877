//! Delivery rules over real HTTP to a scripted collector on 127.0.0.1 (tests/support).
//! Timing checks are lower bounds only, so a slow machine cannot fail them.

mod support;

use plowline_tracker::{
    Clock, Emitter, EmitterBuilder, Error, Failure, FailureReason, FileStore, ManualClock, Method, Overflow,
    PageView, RetryPolicy, SelfDescribingJson, Structured, Subject, Tracker,
};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Answer, Collector};

const FLUSH: Duration = Duration::from_secs(10);

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        jitter: false,
        ..RetryPolicy::default()
    }
}

fn failures() -> (
    Arc<Mutex<Vec<Failure>>>,
    impl Fn(&Failure) + Send + Sync + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |f: &Failure| sink.lock().unwrap().push(f.clone()))
}

fn tracker(builder: EmitterBuilder) -> Tracker {
    Tracker::builder("ns", builder.build().unwrap())
        .app_id("test")
        .build()
        .unwrap()
}

#[test]
fn tracker_is_send_sync_and_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Tracker>();
}

#[test]
fn only_2xx_delivers_a_redirect_is_retried() {
    let collector = Collector::start([Answer::Status(302)]);
    let t = tracker(Emitter::builder(&collector.url).retry(fast_retry(3)));
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(t.flush(FLUSH));
    assert_eq!(collector.requests().len(), 2);
}

#[test]
fn the_default_rule_gives_up_on_its_five_statuses_and_retries_404() {
    for status in [400u16, 401, 403, 410, 422] {
        let collector = Collector::start([Answer::Status(status)]);
        let (seen, on_failure) = failures();
        let t = tracker(
            Emitter::builder(&collector.url)
                .retry(fast_retry(3))
                .on_failure(on_failure),
        );
        t.track(PageView::new("https://a.example/")).unwrap();
        assert!(t.flush(FLUSH), "{status}: the queue is empty after giving up");
        assert_eq!(collector.requests().len(), 1, "{status} is not retried");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].reason, FailureReason::Rejected { status });
        assert_eq!(seen[0].events[0].get("url"), Some("https://a.example/"));
    }
    let collector = Collector::start([Answer::Status(404)]);
    let t = tracker(Emitter::builder(&collector.url).retry(fast_retry(3)));
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(t.flush(FLUSH));
    assert_eq!(
        collector.requests().len(),
        2,
        "404 is retried by Snowplow's default rule"
    );
}

/// A clock that moves 1 ms each time it is read.
struct Ticking(AtomicU64);

impl Clock for Ticking {
    fn now_ms(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

#[test]
fn a_retry_keeps_the_event_id_and_stamps_a_new_stm() {
    let collector = Collector::start([Answer::Status(500)]);
    let clock = Arc::new(Ticking(AtomicU64::new(1_665_398_554_084)));
    let t = tracker(Emitter::builder(&collector.url).retry(fast_retry(3)).clock(clock));
    let id = t.track(PageView::new("https://a.example/")).unwrap();
    assert!(t.flush(FLUSH));
    let requests = collector.requests();
    assert_eq!(requests.len(), 2);
    let (first, second) = (&requests[0].events()[0], &requests[1].events()[0]);
    assert_eq!(first["eid"], id.to_string());
    assert_eq!(second["eid"], id.to_string());
    assert_ne!(first["stm"], second["stm"]);
}

#[test]
fn retry_after_seconds_is_waited_for() {
    let collector = Collector::start([Answer::RetryAfter(503, "1".into())]);
    let t = tracker(Emitter::builder(&collector.url).retry(fast_retry(3)));
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(t.flush(FLUSH));
    let r = collector.requests();
    assert_eq!(r.len(), 2);
    assert!(
        r[1].at - r[0].at >= Duration::from_millis(1000),
        "{:?}",
        r[1].at - r[0].at
    );
}

#[test]
fn backoff_waits_grow_in_milliseconds() {
    let collector = Collector::start([Answer::Status(500), Answer::Status(500)]);
    let policy = RetryPolicy {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(150),
        ..fast_retry(3)
    };
    let t = tracker(Emitter::builder(&collector.url).retry(policy));
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(t.flush(FLUSH));
    let r = collector.requests();
    assert_eq!(r.len(), 3);
    assert!(r[1].at - r[0].at >= Duration::from_millis(100));
    assert!(r[2].at - r[1].at >= Duration::from_millis(150));
}

#[test]
fn exhausted_retries_keep_the_events_queued_and_report_them() {
    let collector = Collector::start([Answer::Status(500), Answer::Status(500)]);
    let (seen, on_failure) = failures();
    let builder = Emitter::builder(&collector.url)
        .batch_size(10)
        .retry(fast_retry(2))
        .on_failure(on_failure);
    let t = tracker(builder);
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(!t.flush(FLUSH));
    assert_eq!(t.emitter().queued(), 1);
    let reason = seen.lock().unwrap()[0].reason.clone();
    assert!(
        matches!(reason, FailureReason::RetriesExhausted { attempts: 2, .. }),
        "{reason:?}"
    );
    assert!(!reason.is_final());
    assert!(t.flush(FLUSH), "the next flush delivers it");
    assert_eq!(collector.requests().len(), 3);
}

#[test]
fn a_batch_that_exhausted_its_retries_goes_back_first_in_order() {
    let collector = Collector::start([Answer::Status(503)]);
    let t = tracker(
        Emitter::builder(&collector.url)
            .batch_size(10)
            .retry(fast_retry(1)),
    );
    for a in ["1", "2", "3"] {
        t.track(Structured::new("c", a)).unwrap();
    }
    assert!(!t.flush(FLUSH));
    t.track(Structured::new("c", "4")).unwrap();
    assert!(t.flush(FLUSH));
    let requests = collector.requests();
    assert_eq!(requests.len(), 2);
    let actions: Vec<String> = requests[1]
        .events()
        .iter()
        .map(|e| e["se_ac"].as_str().unwrap().into())
        .collect();
    assert_eq!(actions, ["1", "2", "3", "4"]);
    let ids = |r: &support::Recorded| -> Vec<String> {
        r.events()
            .iter()
            .take(3)
            .map(|e| e["eid"].as_str().unwrap().into())
            .collect()
    };
    assert_eq!(
        ids(&requests[0]),
        ids(&requests[1]),
        "the same event ids on the retry"
    );
}

#[test]
fn a_dropped_connection_is_retried() {
    let collector = Collector::start([Answer::Drop]);
    let t = tracker(Emitter::builder(&collector.url).retry(fast_retry(3)));
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(t.flush(FLUSH));
    assert!(collector.requests().len() >= 2);
}

#[test]
fn an_oversized_event_is_refused_and_reported_never_sent() {
    let collector = Collector::start([]);
    let (seen, on_failure) = failures();
    let t = tracker(
        Emitter::builder(&collector.url)
            .max_post_bytes(400)
            .on_failure(on_failure),
    );
    let big = Structured::new("c", "a").label("x".repeat(500));
    match t.track(big) {
        Err(Error::Oversized { bytes, limit: 400 }) => assert!(bytes > 500),
        other => panic!("expected Oversized, got {other:?}"),
    }
    t.track(Structured::new("c", "small")).unwrap();
    assert!(t.flush(FLUSH));
    let seen = seen.lock().unwrap();
    assert!(matches!(
        seen[0].reason,
        FailureReason::Oversized { limit: 400, .. }
    ));
    assert_eq!(seen[0].events[0].get("se_ac"), Some("a"));
    let requests = collector.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].events()[0]["se_ac"], "small");
}

#[test]
fn an_oversized_get_is_refused_when_a_get_limit_is_set() {
    let collector = Collector::start([]);
    let (seen, on_failure) = failures();
    let emitter = Emitter::builder(&collector.url)
        .method(Method::Get)
        .max_get_bytes(300)
        .on_failure(on_failure);
    let t = tracker(emitter);
    assert!(matches!(
        t.track(PageView::new(format!("https://a.example/{}", "p".repeat(400)))),
        Err(Error::Oversized { limit: 300, .. })
    ));
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(t.flush(FLUSH));
    assert_eq!(collector.requests().len(), 1);
    assert!(matches!(
        seen.lock().unwrap()[0].reason,
        FailureReason::Oversized { limit: 300, .. }
    ));
}

#[test]
fn a_send_interval_sends_a_partial_batch_without_a_flush() {
    let collector = Collector::start([]);
    let t = tracker(
        Emitter::builder(&collector.url)
            .batch_size(100)
            .send_interval(Duration::from_millis(50)),
    );
    t.track(PageView::new("https://a.example/")).unwrap();
    assert_eq!(collector.wait_for(1).len(), 1, "sent by the timer");
}

#[test]
fn batches_split_by_bytes_and_stay_under_the_limit() {
    let collector = Collector::start([]);
    let t = tracker(
        Emitter::builder(&collector.url)
            .batch_size(10)
            .max_post_bytes(1200),
    );
    for i in 0..10 {
        t.track(Structured::new("c", format!("a{i}")).label("y".repeat(200)))
            .unwrap();
    }
    assert!(t.flush(FLUSH));
    let requests = collector.requests();
    assert!(requests.len() >= 3);
    let actions: Vec<String> = requests
        .iter()
        .flat_map(|r| r.events())
        .map(|e| e["se_ac"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, (0..10).map(|i| format!("a{i}")).collect::<Vec<_>>());
    for r in &requests {
        assert!(r.body.len() <= 1200, "{} bytes", r.body.len());
    }
}

#[test]
fn a_full_queue_rejects_new_events_by_default() {
    let collector = Collector::start([]);
    let (seen, on_failure) = failures();
    let t = tracker(
        Emitter::builder(&collector.url)
            .batch_size(10)
            .capacity(2)
            .on_failure(on_failure),
    );
    t.track(Structured::new("c", "1")).unwrap();
    t.track(Structured::new("c", "2")).unwrap();
    assert!(matches!(
        t.track(Structured::new("c", "3")),
        Err(Error::QueueFull { capacity: 2 })
    ));
    assert_eq!(
        seen.lock().unwrap()[0].reason,
        FailureReason::QueueOverflow { capacity: 2 }
    );
    assert!(t.flush(FLUSH));
    let actions: Vec<String> = collector
        .requests()
        .iter()
        .flat_map(|r| r.events())
        .map(|e| e["se_ac"].as_str().unwrap().into())
        .collect();
    assert_eq!(actions, ["1", "2"]);
}

#[test]
fn drop_oldest_makes_room_and_reports_the_dropped_event() {
    let collector = Collector::start([]);
    let (seen, on_failure) = failures();
    let t = tracker(
        Emitter::builder(&collector.url)
            .batch_size(10)
            .capacity(2)
            .overflow(Overflow::DropOldest)
            .on_failure(on_failure),
    );
    for a in ["1", "2", "3"] {
        t.track(Structured::new("c", a)).unwrap();
    }
    assert_eq!(seen.lock().unwrap()[0].events[0].get("se_ac"), Some("1"));
    assert!(t.flush(FLUSH));
    let actions: Vec<String> = collector
        .requests()
        .iter()
        .flat_map(|r| r.events())
        .map(|e| e["se_ac"].as_str().unwrap().into())
        .collect();
    assert_eq!(actions, ["2", "3"]);
}

#[test]
fn close_with_no_time_starts_no_request_and_reports_what_is_left() {
    let collector = Collector::start([]);
    let (seen, on_failure) = failures();
    let t = tracker(
        Emitter::builder(&collector.url)
            .batch_size(10)
            .on_failure(on_failure),
    );
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(!t.close(Duration::ZERO));
    assert_eq!(collector.requests().len(), 0);
    assert_eq!(seen.lock().unwrap()[0].reason, FailureReason::Unsent);
    assert!(matches!(
        t.track(PageView::new("https://a.example/")),
        Err(Error::Closed)
    ));
}

#[test]
fn a_panicking_callback_does_not_stop_delivery() {
    let collector = Collector::start([Answer::Status(400)]);
    let t = tracker(Emitter::builder(&collector.url).on_failure(|_| panic!("callback bug")));
    t.track(PageView::new("https://a.example/1")).unwrap();
    t.track(PageView::new("https://a.example/2")).unwrap();
    assert!(t.flush(FLUSH));
    assert_eq!(
        collector.requests().len(),
        2,
        "the worker survived the first callback"
    );
}

#[test]
fn dropping_the_last_tracker_sends_what_is_queued() {
    let collector = Collector::start([]);
    let t = tracker(Emitter::builder(&collector.url).batch_size(10));
    t.track(PageView::new("https://a.example/")).unwrap();
    drop(t);
    assert_eq!(collector.requests().len(), 1);
}

#[test]
fn a_file_store_hands_unsent_events_to_the_next_emitter() {
    let dir = std::env::temp_dir().join(format!("plowline-delivery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.journal");
    let _ = std::fs::remove_file(&path);
    let down = Collector::start([Answer::Status(503)]);
    let t = tracker(
        Emitter::builder(&down.url)
            .retry(fast_retry(1))
            .store(FileStore::open(&path).unwrap()),
    );
    let id = t.track(PageView::new("https://a.example/")).unwrap();
    assert!(!t.flush(FLUSH));
    t.close(Duration::ZERO);
    drop(t);
    let up = Collector::start([]);
    let t = tracker(Emitter::builder(&up.url).store(FileStore::open(&path).unwrap()));
    assert!(t.flush(FLUSH));
    let requests = up.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].events()[0]["eid"], id.to_string());
    drop(t);
    assert!(FileStore::open(&path).unwrap().path().exists());
    let empty = {
        use plowline_tracker::EventStore;
        FileStore::open(&path).unwrap().load().unwrap()
    };
    assert!(empty.is_empty(), "delivered events leave the journal");
}

#[test]
fn get_sends_one_event_per_request_with_custom_and_anonymous_headers() {
    let collector = Collector::start([]);
    let emitter = Emitter::builder(&collector.url)
        .method(Method::Get)
        .batch_size(3)
        .header("X-Team", "plowline")
        .anonymous(true);
    let t = Tracker::builder("ns", emitter.build().unwrap())
        .subject(Subject::new().user_id("u-1").language("en"))
        .anonymous(true)
        .build()
        .unwrap();
    for _ in 0..3 {
        t.track(PageView::new("https://a.example/")).unwrap();
    }
    let requests = collector.wait_for(3);
    assert_eq!(requests.len(), 3, "a full batch of GETs goes without a flush");
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert!(r.target.starts_with("/i?"));
        assert_eq!(r.header("X-Team"), Some("plowline"));
        assert_eq!(r.header("SP-Anonymous"), Some("*"));
        let e = &r.events()[0];
        assert!(!e.contains_key("uid"), "anonymous tracking drops the user id");
        assert_eq!(e["lang"], "en");
    }
}

#[test]
fn global_contexts_static_and_generated_go_on_every_event() {
    let collector = Collector::start([]);
    let entity = SelfDescribingJson::new("iglu:com.acme/app/jsonschema/1-0-0", json!({"build": 7}));
    let t = Tracker::builder("ns", Emitter::builder(&collector.url).build().unwrap())
        .encode_base64(false)
        .clock(Arc::new(ManualClock::new(1_665_398_554_084)))
        .global_context(entity)
        .global_context_generator(|info| {
            if info.event_type == "se" {
                vec![SelfDescribingJson::new(
                    "iglu:com.acme/se/jsonschema/1-0-0",
                    json!({}),
                )]
            } else {
                Vec::new()
            }
        })
        .build()
        .unwrap();
    t.track(PageView::new("https://a.example/")).unwrap();
    t.track(Structured::new("c", "a")).unwrap();
    assert!(t.flush(FLUSH));
    let events: Vec<_> = collector.requests().iter().flat_map(|r| r.events()).collect();
    let schemas = |e: &serde_json::Map<String, serde_json::Value>| -> Vec<String> {
        let co: serde_json::Value = serde_json::from_str(e["co"].as_str().unwrap()).unwrap();
        co["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["schema"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(schemas(&events[0]), ["iglu:com.acme/app/jsonschema/1-0-0"]);
    assert_eq!(
        schemas(&events[1]),
        [
            "iglu:com.acme/app/jsonschema/1-0-0",
            "iglu:com.acme/se/jsonschema/1-0-0"
        ]
    );
    assert_eq!(events[0]["dtm"], "1665398554084");
}

#[tokio::test(flavor = "current_thread")]
#[cfg(feature = "tokio")]
async fn async_flush_does_not_block_the_runtime() {
    let collector = Collector::start([]);
    let t = tracker(Emitter::builder(&collector.url).batch_size(10));
    t.track(PageView::new("https://a.example/")).unwrap();
    assert!(t.flush_async(FLUSH).await);
    assert!(t.close_async(FLUSH).await);
    assert_eq!(collector.requests().len(), 1);
}

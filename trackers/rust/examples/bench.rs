//! Benchmarks with same-run baselines (`bench.sh`, `nox -s bench -- rust`):
//!
//! 1. time per `track` call on the caller's thread, against building the same payload by hand;
//! 2. sustained events/s through the tracker to a real collector, against a raw HTTP POST loop
//!    sending equivalent batches.
//!
//! Usage: `cargo run --release --example bench -- http://127.0.0.1:9090 [events]`.

use plowline_tracker::{Emitter, PageView, Platform, Structured, Subject, Tracker};
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const BATCH: usize = 50;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The page view `track` builds, written out by hand: the baseline for the per-call cost.
fn payload_by_hand(i: usize) -> String {
    let eid = uuid::Uuid::new_v4().to_string();
    let url = format!("https://a.example/p/{i}");
    let fields = [
        ("e", "pv"),
        ("url", url.as_str()),
        ("page", "Bench"),
        ("eid", eid.as_str()),
        ("dtm", &now_ms().to_string()),
        ("tv", "rust-plowline-bench"),
        ("tna", "bench"),
        ("aid", "bench"),
        ("p", "srv"),
        ("uid", "u-1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let map: serde_json::Map<String, serde_json::Value> = fields
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn tracker(url: &str, batch: usize) -> Tracker {
    // 40 kB bodies (the JavaScript tracker's default): a collector with a bounded queue
    // answers 503 to a body too big for it, and per_call's batch would otherwise be 1 MB.
    let emitter = Emitter::builder(url)
        .batch_size(batch)
        .max_post_bytes(40_000)
        .capacity(1_000_000)
        .build()
        .unwrap();
    Tracker::builder("bench", emitter)
        .app_id("bench")
        .platform(Platform::Server)
        .subject(Subject::new().user_id("u-1"))
        .build()
        .unwrap()
}

/// The caller's cost of `track`: nothing is sent while it is measured (the batch is larger than
/// the run); the events are flushed to the collector afterwards. Best of 3 for both sides.
fn per_call(url: &str, calls: usize) {
    let (mut tracked, mut by_hand) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        let t = tracker(url, calls + 1);
        let started = Instant::now();
        for i in 0..calls {
            black_box(
                t.track(PageView::new(format!("https://a.example/p/{i}")).title("Bench"))
                    .unwrap(),
            );
        }
        tracked = tracked.min(started.elapsed());
        assert!(
            t.close(Duration::from_secs(300)),
            "tracker did not deliver everything"
        );
        let mut sink = Vec::with_capacity(calls);
        let started = Instant::now();
        for i in 0..calls {
            sink.push(black_box(payload_by_hand(i)));
        }
        by_hand = by_hand.min(started.elapsed());
    }
    let per = |d: Duration| d.as_nanos() as f64 / calls as f64 / 1000.0;
    println!(
        "track() on the caller's thread (best of 3): {:.2} us/call; baseline (payload built by hand): {:.2} us/call; ratio {:.2}",
        per(tracked),
        per(by_hand),
        per(tracked) / per(by_hand)
    );
}

/// Waits until the collector has enriched and stored `expected` events since the last cut.
fn wait_idle(url: &str, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let mut response = ureq::get(&format!("{url}/micro/all"))
            .call()
            .expect("GET /micro/all");
        let body: serde_json::Value = serde_json::from_reader(response.body_mut().as_reader()).unwrap();
        if body["total"].as_u64().unwrap_or(0) >= expected {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the collector did not store {expected} events in 5 minutes");
}

/// Events/s through the tracker: track `events`, then flush.
fn through_tracker(url: &str, events: usize) -> f64 {
    let t = tracker(url, BATCH);
    let started = Instant::now();
    for i in 0..events {
        t.track(Structured::new("bench", "sustained").label(i.to_string()))
            .unwrap();
    }
    assert!(
        t.flush(Duration::from_secs(300)),
        "tracker did not deliver everything"
    );
    let rate = events as f64 / started.elapsed().as_secs_f64();
    t.close(Duration::from_secs(5));
    rate
}

/// Events/s of the baseline: the same number of events in batches of the same size, POSTed
/// one after another on one keep-alive connection.
fn raw_post_loop(url: &str, events: usize) -> f64 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = format!("{url}/com.snowplowanalytics.snowplow/tp2");
    let started = Instant::now();
    let mut sent = 0;
    while sent < events {
        let n = BATCH.min(events - sent);
        let items: Vec<String> = (0..n)
            .map(|i| {
                let mut item = payload_by_hand(sent + i);
                item.insert_str(item.len() - 1, &format!(",\"stm\":\"{}\"", now_ms()));
                item
            })
            .collect();
        let body = format!(
            "{{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[{}]}}",
            items.join(",")
        );
        let response = agent
            .post(&post)
            .header("Content-Type", "application/json; charset=utf-8")
            .send(body.as_bytes())
            .unwrap();
        assert!(
            response.status().is_success(),
            "baseline got {}",
            response.status()
        );
        sent += n;
    }
    events as f64 / started.elapsed().as_secs_f64()
}

/// Waits for the collector to store the `pending` events sent since the last cut, then cuts
/// (`/micro/reset`): every phase starts with the collector idle and its store empty (its latency
/// grows with the store, which would favour whichever side ran first).
fn fresh_collector(url: &str, pending: u64) {
    wait_idle(url, pending);
    for _ in 0..10 {
        if ureq::get(&format!("{url}/micro/reset")).call().is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("warning: the collector refused /micro/reset; this phase runs on a non-empty store");
}

/// Two rounds, baseline and tracker in alternating order, each on a fresh collector; best of
/// each. `pending`: events sent before and not yet cut.
fn sustained(url: &str, events: usize, pending: u64) {
    let (mut tracked, mut raw) = (0f64, 0f64);
    fresh_collector(url, pending);
    for round in 0..2 {
        for side in [round % 2, 1 - round % 2] {
            if side == 0 {
                raw = raw.max(raw_post_loop(url, events));
            } else {
                tracked = tracked.max(through_tracker(url, events));
            }
            fresh_collector(url, events as u64);
        }
    }
    println!(
        "sustained to the collector (best of 2): {tracked:.0} events/s; baseline (raw HTTP POST loop, batches of {BATCH}): {raw:.0} events/s; ratio {:.2}",
        tracked / raw
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: bench <collector url> [events]");
    let events: usize = args
        .next()
        .map_or(5_000, |n| n.parse().expect("a number of events"));
    println!(
        "plowline-tracker {} bench against {url}, {events} events",
        plowline_tracker::VERSION
    );
    per_call(&url, events);
    sustained(&url, events, 3 * events as u64);
}

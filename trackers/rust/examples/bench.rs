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
    let emitter = Emitter::builder(url)
        .batch_size(batch)
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

fn per_call(url: &str, calls: usize) {
    // Tracker: events queue while a collector drains them in the background.
    let t = tracker(url, BATCH);
    for i in 0..1_000 {
        t.track(PageView::new(format!("https://a.example/p/{i}")).title("Bench"))
            .unwrap();
    }
    let started = Instant::now();
    for i in 0..calls {
        black_box(
            t.track(PageView::new(format!("https://a.example/p/{i}")).title("Bench"))
                .unwrap(),
        );
    }
    let tracked = started.elapsed();
    t.close(Duration::from_secs(120));
    let mut sink = Vec::with_capacity(calls);
    let started = Instant::now();
    for i in 0..calls {
        sink.push(black_box(payload_by_hand(i)));
    }
    let by_hand = started.elapsed();
    let per = |d: Duration| d.as_nanos() as f64 / calls as f64 / 1000.0;
    println!(
        "track() on the caller's thread: {:.2} us/call; baseline (payload built by hand): {:.2} us/call; ratio {:.2}",
        per(tracked),
        per(by_hand),
        per(tracked) / per(by_hand)
    );
}

fn sustained(url: &str, events: usize) {
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
    let tracked = started.elapsed();
    t.close(Duration::from_secs(5));

    // Baseline: the same number of events in batches of the same size, POSTed in a plain loop.
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
    let raw = started.elapsed();
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    println!(
        "sustained to the collector: {:.0} events/s; baseline (raw HTTP POST loop, batches of {BATCH}): {:.0} events/s; ratio {:.2}",
        rate(tracked),
        rate(raw),
        rate(tracked) / rate(raw)
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
    per_call(&url, events * 4);
    sustained(&url, events);
}

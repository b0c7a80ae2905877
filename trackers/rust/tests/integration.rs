//! End to end: the tracker sends through a real `plowline up` (collector, enricher, store) and
//! every event comes out good. ci.sh starts `plowline up` and sets PLOWLINE_COLLECTOR_URL; with
//! CI=true a missing collector fails the test instead of skipping it.

use plowline_tracker::{
    EcommerceTransaction, Emitter, Method, PagePing, PageView, Platform, ScreenView, SelfDescribing,
    SelfDescribingJson, Structured, Subject, Timing, Tracker, TransactionItem,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn collector() -> Option<String> {
    match std::env::var("PLOWLINE_COLLECTOR_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but PLOWLINE_COLLECTOR_URL is not set: run trackers/rust/ci.sh")
        }
        _ => None,
    }
}

fn get_json(url: &str) -> Value {
    let mut response = ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    serde_json::from_reader(response.body_mut().as_reader()).unwrap()
}

fn send_everything(url: &str, method: Method, app_id: &str) -> BTreeSet<String> {
    let emitter = Emitter::builder(url)
        .method(method)
        .batch_size(4)
        .build()
        .unwrap();
    let tracker = Tracker::builder("it", emitter)
        .app_id(app_id)
        .platform(Platform::Web)
        .subject(
            Subject::new()
                .user_id("u-1")
                .screen_resolution(1920, 1080)
                .language("en-GB"),
        )
        .build()
        .unwrap();
    let entity = SelfDescribingJson::new(
        "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
        json!({"id": "f7b4db2b-bab2-59b8-8df1-4676fd799d9b"}),
    );
    let mut ids = Vec::new();
    ids.push(
        tracker
            .track(
                PageView::new("https://a.example/p?x=1")
                    .title("Café 🚀")
                    .context(entity),
            )
            .unwrap(),
    );
    ids.push(
        tracker
            .track(PagePing::new("https://a.example/p", 0, 10, 20, 300))
            .unwrap(),
    );
    ids.push(
        tracker
            .track(Structured::new("shop", "add").label("sku-1").value(1.5))
            .unwrap(),
    );
    ids.push(tracker.track(Timing::new("load", "first-paint", 231)).unwrap());
    ids.push(
        tracker
            .track(ScreenView::new("Home", "a7e32d70-8f4d-59e2-9127-d8e1278cdf20").screen_type("feed"))
            .unwrap(),
    );
    ids.push(
        tracker
            .track(SelfDescribing::new(SelfDescribingJson::new(
                "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
                json!({"targetUrl": "https://b.example/"}),
            )))
            .unwrap(),
    );
    let tx = EcommerceTransaction::new("o-1", 3.5)
        .currency("EUR")
        .item(TransactionItem::new("sku-1", 3.5, 1));
    ids.extend(
        tracker
            .track_all(tx.true_timestamp_ms(1_665_300_000_000))
            .unwrap(),
    );
    assert!(tracker.close(Duration::from_secs(30)), "everything delivered");
    ids.iter().map(ToString::to_string).collect()
}

#[test]
fn events_sent_over_get_and_post_come_out_good() {
    let Some(url) = collector() else {
        eprintln!("skipped: PLOWLINE_COLLECTOR_URL not set (ci.sh starts plowline up)");
        return;
    };
    let app_id = format!("rust-it-{}", std::process::id());
    let mut expected = send_everything(&url, Method::Post, &app_id);
    expected.extend(send_everything(&url, Method::Get, &app_id));
    assert_eq!(expected.len(), 16);
    // Enrichment is asynchronous: poll until every event id is there (or a minute passes).
    let deadline = Instant::now() + Duration::from_secs(60);
    let good: BTreeSet<String> = loop {
        let events = get_json(&format!("{url}/micro/good"));
        let ours: BTreeSet<String> = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"]["app_id"] == app_id.as_str())
            .map(|e| e["event"]["event_id"].as_str().unwrap().to_owned())
            .collect();
        if ours.len() >= expected.len() || Instant::now() > deadline {
            break ours;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let bad = get_json(&format!("{url}/micro/bad"));
    let ours_bad: Vec<&Value> = bad
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b.to_string().contains(app_id.as_str()))
        .collect();
    assert!(ours_bad.is_empty(), "bad rows: {ours_bad:#?}");
    assert_eq!(good, expected);
    let events = get_json(&format!("{url}/micro/good"));
    let page_view = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["app_id"] == app_id.as_str() && e["event"]["event"] == "page_view")
        .expect("a page view");
    assert_eq!(page_view["event"]["page_title"], "Café 🚀");
    assert_eq!(page_view["event"]["user_id"], "u-1");
    assert!(page_view["event"]["v_tracker"]
        .as_str()
        .unwrap()
        .starts_with("rust-plowline-"));
}

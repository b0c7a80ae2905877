//! Every tracker-call vector of `spec/vectors/tracker/` (read at test time, never copied)
//! tracked through the real tracker and emitter; the request the emitter hands to its HTTP
//! client is decoded and compared with the vector's `expect` (`spec/vectors/FORMAT.md`).

use plowline_tracker::{
    Emitter, HttpClient, HttpOutcome, HttpRequest, ManualClock, Method, Platform, Tracker,
    PAYLOAD_DATA_SCHEMA,
};
use plowline_tracker_driver::{event, subject};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// One request the emitter made: method, URL, body, headers.
type Sent = (Method, String, Option<Vec<u8>>, Vec<(String, String)>);

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Sent>>>);

impl HttpClient for Recorder {
    fn send(&self, request: &HttpRequest<'_>) -> HttpOutcome {
        self.0.lock().unwrap().push((
            request.method,
            request.url.to_owned(),
            request.body.map(<[u8]>::to_vec),
            request.headers.to_vec(),
        ));
        HttpOutcome::Status {
            code: 200,
            retry_after: None,
        }
    }
}

fn vectors() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../spec/vectors/tracker");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let value: Value =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.file_stem().unwrap().to_string_lossy().into_owned(), value)
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("the querystring decodes to UTF-8")
}

fn base64url_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' => 62,
            b'_' => 63,
            other => panic!("{:?} is not base64url", other as char),
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | value(c) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    out
}

/// The wire events of the recorded requests, each as a map of strings.
fn wire_events(recorder: &Recorder) -> Vec<Map<String, Value>> {
    let mut events = Vec::new();
    for (method, url, body, headers) in recorder.0.lock().unwrap().iter() {
        match method {
            Method::Get => {
                let (_, query) = url.split_once('?').expect("a GET carries a querystring");
                let mut map = Map::new();
                for pair in query.split('&') {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    map.insert(percent_decode(k), Value::String(percent_decode(v)));
                }
                events.push(map);
            }
            Method::Post => {
                assert!(headers
                    .iter()
                    .any(|(k, v)| k == "Content-Type" && v == "application/json; charset=utf-8"));
                let body: Value = serde_json::from_slice(body.as_ref().expect("a POST has a body")).unwrap();
                assert_eq!(body["schema"], PAYLOAD_DATA_SCHEMA);
                for item in body["data"].as_array().unwrap() {
                    events.push(item.as_object().unwrap().clone());
                }
            }
        }
    }
    events
}

fn check(id: &str, index: usize, wire: &Map<String, Value>, expect: &Value) {
    let at = format!("{id} event {index}");
    if let Some(params) = expect.get("params").and_then(Value::as_object) {
        for (key, want) in params {
            assert_eq!(
                wire.get(key).and_then(Value::as_str),
                want.as_str(),
                "{at}: {key}"
            );
        }
    }
    if let Some(decoded) = expect.get("decoded").and_then(Value::as_object) {
        for (key, want) in decoded {
            let raw = wire
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{at}: {key} missing"));
            let text = if key == "cx" || key == "ue_px" {
                String::from_utf8(base64url_decode(raw)).unwrap()
            } else {
                raw.to_owned()
            };
            let got: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{at}: {key} is not JSON: {e}"));
            assert!(json_equal(&got, want), "{at}: {key}\n got {got}\nwant {want}");
        }
    }
    for key in expect
        .get("present")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = key.as_str().unwrap();
        assert!(
            wire.get(key)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty()),
            "{at}: {key} absent"
        );
    }
    for key in expect
        .get("absent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = key.as_str().unwrap();
        assert!(!wire.contains_key(key), "{at}: {key} must be absent");
    }
}

/// JSON meaning: numbers compare by value (`1` equals `1.0`), objects ignore key order.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn run_vector(id: &str, vector: &Value) {
    let recorder = Recorder::default();
    let method = if vector["method"] == "GET" {
        Method::Get
    } else {
        Method::Post
    };
    let clock = Arc::new(ManualClock::new(vector["clock_ms"].as_u64().expect("clock_ms")));
    let ids: VecDeque<Uuid> = match (&vector["event_ids"], &vector["event_id"]) {
        (Value::Array(list), _) => list
            .iter()
            .map(|v| Uuid::parse_str(v.as_str().unwrap()).unwrap())
            .collect(),
        (_, Value::String(one)) => VecDeque::from([Uuid::parse_str(one).unwrap()]),
        _ => panic!("{id}: no event id"),
    };
    let ids = Mutex::new(ids);
    let next_id = move || {
        ids.lock()
            .unwrap()
            .pop_front()
            .expect("an injected id per wire event")
    };
    let emitter = Emitter::builder("http://collector.invalid")
        .method(method)
        .http_client(recorder.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let settings = &vector["tracker"];
    let tracker = Tracker::builder(settings["namespace"].as_str().unwrap(), emitter)
        .app_id(settings["app_id"].as_str().unwrap())
        .platform(
            settings["platform"]
                .as_str()
                .unwrap()
                .parse::<Platform>()
                .unwrap(),
        )
        .encode_base64(settings["encode_base64"].as_bool().unwrap())
        .subject(subject(vector.get("subject").and_then(Value::as_object)).unwrap())
        .clock(clock)
        .event_ids(Arc::new(next_id))
        .build()
        .unwrap();
    let event = event(vector["event"].as_object().unwrap(), None).unwrap();
    let returned = tracker.track_all(event).unwrap();
    assert!(tracker.flush(Duration::from_secs(10)), "{id}: not delivered");
    let wire = wire_events(&recorder);
    let expected: Vec<&Value> = match vector["expect"].get("events") {
        Some(Value::Array(list)) => list.iter().collect(),
        _ => vec![&vector["expect"]],
    };
    assert_eq!(wire.len(), expected.len(), "{id}: wire events");
    assert_eq!(returned.len(), expected.len(), "{id}: returned ids");
    for (i, (got, want)) in wire.iter().zip(expected).enumerate() {
        assert_eq!(
            got.get("eid").and_then(Value::as_str),
            Some(returned[i].to_string().as_str())
        );
        check(id, i, got, want);
    }
}

#[test]
fn every_tracker_vector_holds() {
    let vectors = vectors();
    assert!(
        vectors.len() >= 30,
        "only {} tracker vectors found",
        vectors.len()
    );
    for (id, vector) in &vectors {
        assert_eq!(vector["kind"], "tracker_call", "{id}");
        run_vector(id, vector);
    }
}

#[test]
fn the_decoders_of_this_test_are_right() {
    assert_eq!(percent_decode("a%20b+c%C3%A9"), "a b cé");
    assert_eq!(base64url_decode("Zm9vYmE"), b"fooba");
    assert_eq!(base64url_decode("Zm9vYmE="), b"fooba");
    assert!(json_equal(
        &serde_json::json!({"a": 1, "b": [1.0]}),
        &serde_json::json!({"b": [1], "a": 1.0})
    ));
    assert!(!json_equal(
        &serde_json::json!({"a": 1}),
        &serde_json::json!({"a": 1, "b": 2})
    ));
}

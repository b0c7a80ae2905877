//! Conformance driver for plowline-tracker (Rust), tracker driver protocol v1
//! (`spec/driver/README.md`).
//!
//! One JSON request per line on stdin, one JSON reply per line on stdout. A dispatch table maps
//! each command to a function that turns the request into tracker calls; there is no test logic
//! here: the harness owns the collector, records the wire and gives every verdict.
//!
//! The neutral-event conversion ([`event`], [`subject`]) is public so the wire-vector tests
//! (`tests/vectors.rs`) track exactly what the driver tracks.

use plowline_tracker::{
    CartAction, CartChange, Clock, EcommerceTransaction, Emitter, Event, EventIdFactory, FileStore,
    FormElement, FormField, FormFieldAction, LinkClick, ManualClock, Method, PagePing, PageView, Platform,
    RetryPolicy, ScreenView, ScreenViewSchema, SelfDescribing, SelfDescribingJson, SiteSearch, Structured,
    Subject, SubmitForm, SystemClock, Timing, Tracker, TransactionItem, TRACKER_VERSION, VERSION,
};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

const PROTOCOL: u64 = 1;
const CAPABILITIES: &[&str] = &[
    "get",
    "post",
    "base64",
    "custom-paths",
    "request-timeout",
    "batching-count",
    "batching-bytes",
    "retry",
    "retry-after",
    "persistence",
    "injected-clock",
    "injected-event-id",
    "subject",
    "subject-per-event",
    "contexts",
    "true-timestamp",
    "event-page-view",
    "event-page-ping",
    "event-structured",
    "event-self-describing",
    "event-screen-view",
    "event-screen-view-legacy",
    "event-link-click",
    "event-submit-form",
    "event-change-form",
    "event-focus-form",
    "event-site-search",
    "event-timing",
    "event-ecommerce-transaction",
    "event-add-to-cart",
    "event-remove-from-cart",
];
/// How long reset waits for queued events when the request names no timeout.
const DEFAULT_RESET_TIMEOUT: Duration = Duration::from_secs(1);
/// How long flush waits when the request names no timeout.
const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request got no `ok`.
#[derive(Debug)]
pub enum Failed {
    /// The driver cannot do this.
    Skip {
        /// Why.
        reason: String,
        /// The capability it lacks.
        capability: Option<String>,
    },
    /// A malformed or out-of-order request.
    Protocol(String),
    /// An event or setting the tracker refuses.
    Invalid(String),
    /// A bug.
    Internal(String),
}

type Reply = Result<Map<String, Value>, Failed>;

fn protocol<T>(message: impl Into<String>) -> Result<T, Failed> {
    Err(Failed::Protocol(message.into()))
}

fn invalid<T>(message: impl Into<String>) -> Result<T, Failed> {
    Err(Failed::Invalid(message.into()))
}

impl From<plowline_tracker::Error> for Failed {
    fn from(error: plowline_tracker::Error) -> Self {
        use plowline_tracker::Error as E;
        match error {
            E::InvalidEvent(_) | E::InvalidConfig(_) | E::Oversized { .. } => {
                Failed::Invalid(error.to_string())
            }
            other => Failed::Internal(other.to_string()),
        }
    }
}

/// The injected clock: the real one until a `clock_ms` fixes it.
struct DriverClock {
    fixed: AtomicBool,
    manual: ManualClock,
}

impl Clock for DriverClock {
    fn now_ms(&self) -> u64 {
        if self.fixed.load(Ordering::SeqCst) {
            self.manual.now_ms()
        } else {
            SystemClock.now_ms()
        }
    }
}

impl DriverClock {
    fn set(&self, ms: u64) {
        self.manual.set(ms);
        self.fixed.store(true, Ordering::SeqCst);
    }
}

/// The injected id factory: ids queued by a track request, then the seeded or random ones.
struct DriverIds {
    queued: Mutex<VecDeque<Uuid>>,
    seed: Option<u32>,
    next: AtomicU64,
}

impl EventIdFactory for DriverIds {
    fn next_id(&self) -> Uuid {
        if let Some(id) = self.queued.lock().expect("id queue").pop_front() {
            return id;
        }
        match self.seed {
            Some(seed) => {
                let n = self.next.fetch_add(1, Ordering::SeqCst);
                let text = format!("{seed:08x}-0000-4000-8000-{n:012x}");
                Uuid::parse_str(&text).expect("the seeded sequence is a UUID")
            }
            None => Uuid::new_v4(),
        }
    }
}

struct Configured {
    tracker: Tracker,
    clock: Arc<DriverClock>,
    ids: Arc<DriverIds>,
}

#[derive(Default)]
struct Session {
    current: Option<Configured>,
    stopping: bool,
}

fn keys(request: &Map<String, Value>, allowed: &[&str]) -> Result<(), Failed> {
    let unknown: Vec<&String> = request
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()) && *k != "cmd" && *k != "seq")
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        protocol(format!("unknown keys {unknown:?}"))
    }
}

fn object<'a>(value: Option<&'a Value>, what: &str) -> Result<Option<&'a Map<String, Value>>, Failed> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => protocol(format!("{what} must be an object")),
    }
}

fn uint(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, Failed> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| Failed::Protocol(format!("{key} must be a non-negative integer"))),
    }
}

fn ms(map: &Map<String, Value>, key: &str) -> Result<Option<Duration>, Failed> {
    Ok(uint(map, key)?.map(Duration::from_millis))
}

fn hello(_: &mut Session, request: &Map<String, Value>) -> Reply {
    keys(request, &["protocol"])?;
    if request.get("protocol").and_then(Value::as_u64) != Some(PROTOCOL) {
        return protocol(format!("this driver speaks protocol {PROTOCOL}"));
    }
    let reply = json!({
        "protocol": PROTOCOL,
        "implementation": {
            "name": "plowline-tracker-rust",
            "version": VERSION,
            "language": "rust",
            "tracker_version": TRACKER_VERSION,
        },
        "capabilities": CAPABILITIES,
    });
    Ok(reply.as_object().cloned().unwrap_or_default())
}

/// The configured policy over the library's defaults (`spec/delivery/rules.yaml`: retry every
/// failure except 400, 401, 403, 410 and 422, as the `retry` capability asks).
fn retry_policy(spec: Option<&Map<String, Value>>) -> Result<RetryPolicy, Failed> {
    let defaults = RetryPolicy::default();
    let Some(spec) = spec else { return Ok(defaults) };
    let flag = |key: &str, default: bool| spec.get(key).and_then(Value::as_bool).unwrap_or(default);
    Ok(RetryPolicy {
        max_attempts: uint(spec, "max_attempts")?.map_or(defaults.max_attempts, |n| n as u32),
        initial_backoff: ms(spec, "initial_backoff_ms")?.unwrap_or(defaults.initial_backoff),
        max_backoff: ms(spec, "max_backoff_ms")?.unwrap_or(defaults.max_backoff),
        multiplier: spec
            .get("multiplier")
            .and_then(Value::as_f64)
            .unwrap_or(defaults.multiplier),
        jitter: flag("jitter", defaults.jitter),
        honour_retry_after: flag("honour_retry_after", defaults.honour_retry_after),
        ..defaults
    })
}

fn configure(session: &mut Session, request: &Map<String, Value>) -> Reply {
    keys(
        request,
        &[
            "endpoint",
            "method",
            "tracker",
            "subject",
            "clock_ms",
            "event_id_seed",
            "batching",
            "retry",
            "request_timeout_ms",
            "persistence",
            "paths",
        ],
    )?;
    discard(session, DEFAULT_RESET_TIMEOUT);
    let Some(endpoint) = request.get("endpoint").and_then(Value::as_str) else {
        return protocol("endpoint must be a string");
    };
    let method = match request.get("method").and_then(Value::as_str) {
        Some("GET") => Method::Get,
        Some("POST") => Method::Post,
        other => return protocol(format!("method must be GET or POST, not {other:?}")),
    };
    let settings = object(request.get("tracker"), "tracker")?
        .cloned()
        .unwrap_or_default();
    let batching = object(request.get("batching"), "batching")?
        .cloned()
        .unwrap_or_default();
    let paths = object(request.get("paths"), "paths")?
        .cloned()
        .unwrap_or_default();
    let clock = Arc::new(DriverClock {
        fixed: AtomicBool::new(false),
        manual: ManualClock::new(0),
    });
    if let Some(at) = uint(request, "clock_ms")? {
        clock.set(at);
    }
    let seed = uint(request, "event_id_seed")?
        .map(|s| u32::try_from(s).map_err(|_| Failed::Protocol("event_id_seed is a 32-bit number".into())))
        .transpose()?;
    let ids = Arc::new(DriverIds {
        queued: Mutex::new(VecDeque::new()),
        seed,
        next: AtomicU64::new(0),
    });
    let mut emitter = Emitter::builder(endpoint)
        .method(method)
        .clock(clock.clone())
        .retry(retry_policy(object(request.get("retry"), "retry")?)?)
        .batch_size(uint(&batching, "count")?.unwrap_or(1) as usize)
        .close_timeout(Duration::ZERO);
    if let Some(bytes) = uint(&batching, "bytes")? {
        emitter = emitter.max_post_bytes(bytes as usize);
    }
    if let Some(timeout) = ms(request, "request_timeout_ms")? {
        emitter = emitter.request_timeout(timeout);
    }
    if let Some(path) = paths.get("get").and_then(Value::as_str) {
        emitter = emitter.get_path(path);
    }
    if let Some(path) = paths.get("post").and_then(Value::as_str) {
        emitter = emitter.post_path(path);
    }
    if let Some(persistence) = object(request.get("persistence"), "persistence")? {
        let Some(path) = persistence.get("path").and_then(Value::as_str) else {
            return protocol("persistence.path must be a string");
        };
        let store =
            FileStore::open(path).map_err(|e| Failed::Internal(format!("cannot open {path}: {e}")))?;
        emitter = emitter.store(store);
    }
    let emitter = emitter.build()?;
    let platform = match settings.get("platform").and_then(Value::as_str) {
        Some(p) => p.parse::<Platform>()?,
        None => Platform::default(),
    };
    let mut tracker = Tracker::builder(
        settings
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("default"),
        emitter,
    )
    .platform(platform)
    .encode_base64(
        settings
            .get("encode_base64")
            .and_then(Value::as_bool)
            .unwrap_or(true),
    )
    .subject(subject(object(request.get("subject"), "subject")?)?)
    .clock(clock.clone())
    .event_ids(ids.clone());
    if let Some(app_id) = settings.get("app_id").and_then(Value::as_str) {
        tracker = tracker.app_id(app_id);
    }
    session.current = Some(Configured {
        tracker: tracker.build()?,
        clock,
        ids,
    });
    Ok(Map::new())
}

/// The library subject for a neutral subject.
pub fn subject(spec: Option<&Map<String, Value>>) -> Result<Subject, Failed> {
    let mut s = Subject::new();
    let Some(spec) = spec else { return Ok(s) };
    let text = |key: &str| -> Result<Option<String>, Failed> {
        match spec.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(v)) => Ok(Some(v.clone())),
            Some(_) => invalid(format!("subject.{key} must be a string")),
        }
    };
    let dims = |key: &str| -> Result<Option<(u32, u32)>, Failed> {
        match spec.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(v)) if v.len() == 2 => {
                let w = v[0].as_u64().and_then(|n| u32::try_from(n).ok());
                let h = v[1].as_u64().and_then(|n| u32::try_from(n).ok());
                match (w, h) {
                    (Some(w), Some(h)) => Ok(Some((w, h))),
                    _ => invalid(format!("subject.{key} must be two integers")),
                }
            }
            Some(_) => invalid(format!("subject.{key} must be [width, height]")),
        }
    };
    let number = |key: &str| -> Result<Option<u32>, Failed> {
        match spec.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| Failed::Invalid(format!("subject.{key} must be an integer"))),
        }
    };
    s.user_id = text("user_id")?;
    s.domain_user_id = text("domain_user_id")?;
    s.network_user_id = text("network_user_id")?;
    s.screen_resolution = dims("screen_resolution")?;
    s.viewport = dims("viewport")?;
    s.color_depth = number("color_depth")?;
    s.timezone = text("timezone")?;
    s.language = text("language")?;
    s.ip_address = text("ip_address")?;
    s.useragent = text("useragent")?;
    s.session_id = text("session_id")?;
    s.session_index = number("session_index")?;
    Ok(s)
}

/// Reads a neutral event (`spec/vectors/FORMAT.md`) field by field.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    kind: &'a str,
}

impl<'a> Fields<'a> {
    fn text(&self, key: &str) -> Result<String, Failed> {
        match self.map.get(key) {
            Some(Value::String(v)) => Ok(v.clone()),
            Some(_) => invalid(format!("{}.{key} must be a string", self.kind)),
            None => invalid(format!("{} needs {key}", self.kind)),
        }
    }

    fn opt_text(&self, key: &str) -> Result<Option<String>, Failed> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(v)) => Ok(Some(v.clone())),
            Some(_) => invalid(format!("{}.{key} must be a string", self.kind)),
        }
    }

    /// A string or null (`value` of form fields); absent is an error.
    fn nullable_text(&self, key: &str) -> Result<Option<String>, Failed> {
        match self.map.get(key) {
            None => invalid(format!("{} needs {key}", self.kind)),
            Some(_) => self.opt_text(key),
        }
    }

    fn num(&self, key: &str) -> Result<f64, Failed> {
        match self.map.get(key) {
            Some(v) if v.is_number() => Ok(v.as_f64().unwrap_or_default()),
            Some(_) => invalid(format!("{}.{key} must be a number", self.kind)),
            None => invalid(format!("{} needs {key}", self.kind)),
        }
    }

    fn opt_num(&self, key: &str) -> Result<Option<f64>, Failed> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.num(key).map(Some),
        }
    }

    fn int(&self, key: &str) -> Result<i64, Failed> {
        match self.map.get(key) {
            Some(v) if v.is_i64() => Ok(v.as_i64().unwrap_or_default()),
            Some(_) => invalid(format!("{}.{key} must be an integer", self.kind)),
            None => invalid(format!("{} needs {key}", self.kind)),
        }
    }

    fn opt_uint(&self, key: &str) -> Result<Option<u64>, Failed> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| Failed::Invalid(format!("{}.{key} must be a count", self.kind))),
        }
    }

    fn list(&self, key: &str) -> Result<Option<Vec<String>>, Failed> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| Failed::Invalid(format!("{}.{key} must be a list of strings", self.kind))),
            Some(_) => invalid(format!("{}.{key} must be a list", self.kind)),
        }
    }
}

fn sdj(value: &Value, what: &str) -> Result<SelfDescribingJson, Failed> {
    let map = value
        .as_object()
        .ok_or_else(|| Failed::Invalid(format!("{what} must be a self-describing JSON")))?;
    let schema = map.get("schema").and_then(Value::as_str);
    match (schema, map.get("data")) {
        (Some(schema), Some(data)) if map.len() == 2 => Ok(SelfDescribingJson::new(schema, data.clone())),
        _ => invalid(format!("{what} must be {{schema, data}}")),
    }
}

fn entities(value: Option<&Value>) -> Result<Vec<SelfDescribingJson>, Failed> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|v| sdj(v, "an entity")).collect(),
        Some(_) => invalid("contexts must be a list of self-describing JSON"),
    }
}

macro_rules! with_common {
    ($event:expr, $contexts:expr, $ttm:expr) => {{
        let mut event = $event.contexts($contexts);
        if let Some(ms) = $ttm {
            event = event.true_timestamp_ms(ms);
        }
        Event::from(event)
    }};
}

/// The library event for a neutral event (`spec/vectors/FORMAT.md`), with its own subject.
pub fn event(spec: &Map<String, Value>, subject: Option<Subject>) -> Result<Event, Failed> {
    let kind = spec.get("type").and_then(Value::as_str).unwrap_or_default();
    let f = Fields { map: spec, kind };
    let contexts = entities(spec.get("contexts"))?;
    let ttm = f.opt_uint("true_timestamp_ms")?;
    let event = match kind {
        "page_view" => {
            let mut e = PageView::new(f.text("page_url")?);
            if let Some(v) = f.opt_text("page_title")? {
                e = e.title(v);
            }
            if let Some(v) = f.opt_text("referrer")? {
                e = e.referrer(v);
            }
            with_common!(e, contexts, ttm)
        }
        "page_ping" => {
            let mut e = PagePing::new(
                f.text("page_url")?,
                f.int("min_x")?,
                f.int("max_x")?,
                f.int("min_y")?,
                f.int("max_y")?,
            );
            if let Some(v) = f.opt_text("page_title")? {
                e = e.title(v);
            }
            if let Some(v) = f.opt_text("referrer")? {
                e = e.referrer(v);
            }
            with_common!(e, contexts, ttm)
        }
        "structured" => {
            let mut e = Structured::new(f.text("category")?, f.text("action")?);
            if let Some(v) = f.opt_text("label")? {
                e = e.label(v);
            }
            if let Some(v) = f.opt_text("property")? {
                e = e.property(v);
            }
            if let Some(v) = f.opt_num("value")? {
                e = e.value(v);
            }
            with_common!(e, contexts, ttm)
        }
        "self_describing" => {
            let inner = spec
                .get("event")
                .ok_or_else(|| Failed::Invalid("self_describing needs event".into()))?;
            with_common!(SelfDescribing::new(sdj(inner, "event")?), contexts, ttm)
        }
        "screen_view" => {
            let schema = match f.opt_text("variant")?.as_deref() {
                None | Some("mobile") => ScreenViewSchema::Mobile,
                Some("legacy") => ScreenViewSchema::Legacy,
                Some(other) => return invalid(format!("unknown screen_view variant {other:?}")),
            };
            let mut e = ScreenView::new(f.text("name")?, f.text("id")?).schema(schema);
            if let Some(v) = f.opt_text("screen_type")? {
                e = e.screen_type(v);
            }
            if let Some(v) = f.opt_text("previous_name")? {
                e = e.previous_name(v);
            }
            with_common!(e, contexts, ttm)
        }
        "link_click" => {
            let mut e = LinkClick::new(f.text("target_url")?);
            if let Some(v) = f.opt_text("element_id")? {
                e = e.element_id(v);
            }
            if let Some(v) = f.list("element_classes")? {
                e = e.element_classes(v);
            }
            if let Some(v) = f.opt_text("element_target")? {
                e = e.element_target(v);
            }
            if let Some(v) = f.opt_text("element_content")? {
                e = e.element_content(v);
            }
            with_common!(e, contexts, ttm)
        }
        "timing" => {
            let mut e = Timing::new(f.text("category")?, f.text("variable")?, f.int("timing")?);
            if let Some(v) = f.opt_text("label")? {
                e = e.label(v);
            }
            with_common!(e, contexts, ttm)
        }
        "site_search" => {
            let terms = f
                .list("terms")?
                .ok_or_else(|| Failed::Invalid("site_search needs terms".into()))?;
            let mut e = SiteSearch::new(terms);
            if let Some(filters) = object(spec.get("filters"), "filters")
                .map_err(|_| Failed::Invalid("filters must be an object".into()))?
            {
                for (name, value) in filters {
                    e = e.filter(name.clone(), value.clone());
                }
            }
            if let Some(v) = f.opt_uint("total_results")? {
                e = e.total_results(v);
            }
            if let Some(v) = f.opt_uint("page_results")? {
                e = e.page_results(v);
            }
            with_common!(e, contexts, ttm)
        }
        "submit_form" => {
            let mut e = SubmitForm::new(f.text("form_id")?);
            if let Some(v) = f.list("form_classes")? {
                e = e.form_classes(v);
            }
            match spec.get("elements") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for item in items {
                        let map = item
                            .as_object()
                            .ok_or_else(|| Failed::Invalid("a form element must be an object".into()))?;
                        let el = Fields {
                            map,
                            kind: "submit_form element",
                        };
                        e = e.element(FormElement {
                            name: el.text("name")?,
                            value: el.nullable_text("value")?,
                            node_name: el.text("node_name")?,
                            element_type: el.opt_text("type")?,
                        });
                    }
                }
                Some(_) => return invalid("submit_form.elements must be a list"),
            }
            with_common!(e, contexts, ttm)
        }
        "change_form" | "focus_form" => {
            let action = if kind == "change_form" {
                FormFieldAction::Change
            } else {
                FormFieldAction::Focus
            };
            let mut e = FormField::new(
                action,
                f.text("form_id")?,
                f.text("element_id")?,
                f.text("node_name")?,
                f.nullable_text("value")?,
            );
            if let Some(v) = f.opt_text("element_type")? {
                e = e.element_type(v);
            }
            if let Some(v) = f.list("element_classes")? {
                e = e.element_classes(v);
            }
            with_common!(e, contexts, ttm)
        }
        "add_to_cart" | "remove_from_cart" => {
            let action = if kind == "add_to_cart" {
                CartAction::Add
            } else {
                CartAction::Remove
            };
            let mut e = CartChange::new(action, f.text("sku")?, f.num("quantity")?);
            if let Some(v) = f.opt_text("name")? {
                e = e.name(v);
            }
            if let Some(v) = f.opt_text("category")? {
                e = e.category(v);
            }
            if let Some(v) = f.opt_num("unit_price")? {
                e = e.unit_price(v);
            }
            if let Some(v) = f.opt_text("currency")? {
                e = e.currency(v);
            }
            with_common!(e, contexts, ttm)
        }
        "ecommerce_transaction" => {
            let mut e = EcommerceTransaction::new(f.text("order_id")?, f.num("total_value")?);
            if let Some(v) = f.opt_text("affiliation")? {
                e = e.affiliation(v);
            }
            if let Some(v) = f.opt_num("tax_value")? {
                e = e.tax_value(v);
            }
            if let Some(v) = f.opt_num("shipping")? {
                e = e.shipping(v);
            }
            if let Some(v) = f.opt_text("city")? {
                e = e.city(v);
            }
            if let Some(v) = f.opt_text("state")? {
                e = e.state(v);
            }
            if let Some(v) = f.opt_text("country")? {
                e = e.country(v);
            }
            if let Some(v) = f.opt_text("currency")? {
                e = e.currency(v);
            }
            match spec.get("items") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for item in items {
                        let map = item
                            .as_object()
                            .ok_or_else(|| Failed::Invalid("an item must be an object".into()))?;
                        let it = Fields {
                            map,
                            kind: "transaction item",
                        };
                        let mut line =
                            TransactionItem::new(it.text("sku")?, it.num("price")?, it.int("quantity")?);
                        if let Some(v) = it.opt_text("name")? {
                            line = line.name(v);
                        }
                        if let Some(v) = it.opt_text("category")? {
                            line = line.category(v);
                        }
                        e = e.item(line);
                    }
                }
                Some(_) => return invalid("items must be a list"),
            }
            with_common!(e, contexts, ttm)
        }
        other => {
            return Err(Failed::Skip {
                reason: format!("event type {other:?} is not supported"),
                capability: Some(format!("event-{}", other.replace('_', "-"))),
            })
        }
    };
    Ok(match subject {
        Some(s) => with_subject(event, s),
        None => event,
    })
}

fn with_subject(event: Event, s: Subject) -> Event {
    match event {
        Event::PageView(e) => e.subject(s).into(),
        Event::PagePing(e) => e.subject(s).into(),
        Event::Structured(e) => e.subject(s).into(),
        Event::SelfDescribing(e) => e.subject(s).into(),
        Event::ScreenView(e) => e.subject(s).into(),
        Event::LinkClick(e) => e.subject(s).into(),
        Event::Timing(e) => e.subject(s).into(),
        Event::SiteSearch(e) => e.subject(s).into(),
        Event::SubmitForm(e) => e.subject(s).into(),
        Event::FormField(e) => e.subject(s).into(),
        Event::CartChange(e) => e.subject(s).into(),
        Event::EcommerceTransaction(e) => e.subject(s).into(),
        other => other,
    }
}

fn track(session: &mut Session, request: &Map<String, Value>) -> Reply {
    keys(
        request,
        &["event", "clock_ms", "event_id", "event_ids", "subject"],
    )?;
    let Some(current) = &session.current else {
        return protocol("track before configure");
    };
    let Some(spec) = object(request.get("event"), "event")? else {
        return protocol("track needs an event");
    };
    let own_subject = object(request.get("subject"), "subject")?
        .map(|s| subject(Some(s)))
        .transpose()?;
    let event = event(spec, own_subject)?;
    if let Some(at) = uint(request, "clock_ms")? {
        current.clock.set(at);
    }
    let given: Vec<&Value> = match (request.get("event_ids"), request.get("event_id")) {
        (Some(Value::Array(ids)), _) => ids.iter().collect(),
        (_, Some(id)) => vec![id],
        _ => Vec::new(),
    };
    let mut queue = VecDeque::new();
    for id in given {
        let parsed = id.as_str().and_then(|s| Uuid::parse_str(s).ok());
        queue.push_back(parsed.ok_or_else(|| Failed::Protocol(format!("event id {id} is not a UUID")))?);
    }
    *current.ids.queued.lock().expect("id queue") = queue;
    let result = current.tracker.track_all(event);
    current.ids.queued.lock().expect("id queue").clear(); // ids meant for this call never leak
    let ids: Vec<String> = result?.iter().map(Uuid::to_string).collect();
    let mut reply = Map::new();
    reply.insert("event_ids".into(), json!(ids));
    Ok(reply)
}

fn flush(session: &mut Session, request: &Map<String, Value>) -> Reply {
    keys(request, &["timeout_ms"])?;
    let Some(current) = &session.current else {
        return protocol("flush before configure");
    };
    let timeout = ms(request, "timeout_ms")?.unwrap_or(DEFAULT_FLUSH_TIMEOUT);
    let delivered = current.tracker.flush(timeout);
    let mut reply = Map::new();
    reply.insert("delivered".into(), json!(delivered));
    Ok(reply)
}

/// Closes the tracker; returns once its worker can start no further request.
fn discard(session: &mut Session, timeout: Duration) {
    if let Some(current) = session.current.take() {
        current.tracker.close(timeout);
    }
}

fn reset(session: &mut Session, request: &Map<String, Value>) -> Reply {
    keys(request, &["timeout_ms"])?;
    discard(
        session,
        ms(request, "timeout_ms")?.unwrap_or(DEFAULT_RESET_TIMEOUT),
    );
    Ok(Map::new())
}

fn stop(session: &mut Session, request: &Map<String, Value>) -> Reply {
    let reply = reset(session, request)?;
    session.stopping = true;
    Ok(reply)
}

type Handler = fn(&mut Session, &Map<String, Value>) -> Reply;

fn handler(cmd: &str) -> Option<Handler> {
    Some(match cmd {
        "hello" => hello,
        "configure" => configure,
        "track" => track,
        "flush" => flush,
        "reset" => reset,
        "stop" => stop,
        _ => return None,
    })
}

fn errored(seq: Value, message: String, kind: &str) -> Value {
    json!({"seq": seq, "status": "errored", "message": message, "error_type": kind})
}

/// One reply for one request line; every failure is an `errored` or `skipped` reply.
fn answer(session: &mut Session, line: &str) -> Value {
    let request: Map<String, Value> = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return errored(Value::Null, "a request must be a JSON object".into(), "protocol"),
        Err(e) => return errored(Value::Null, format!("request is not JSON: {e}"), "protocol"),
    };
    let Some(seq) = request.get("seq").and_then(Value::as_u64) else {
        return errored(
            Value::Null,
            "request needs a non-negative integer seq".into(),
            "protocol",
        );
    };
    let cmd = request.get("cmd").and_then(Value::as_str).unwrap_or_default();
    let Some(handler) = handler(cmd) else {
        return errored(json!(seq), format!("unknown command {cmd:?}"), "protocol");
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(session, &request)));
    match outcome {
        Ok(Ok(mut reply)) => {
            reply.insert("seq".into(), json!(seq));
            reply.insert("status".into(), json!("ok"));
            Value::Object(reply)
        }
        Ok(Err(Failed::Skip { reason, capability })) => {
            let mut reply = json!({"seq": seq, "status": "skipped", "reason": reason});
            if let Some(capability) = capability {
                reply["capability"] = json!(capability);
            }
            reply
        }
        Ok(Err(Failed::Protocol(m))) => errored(json!(seq), m, "protocol"),
        Ok(Err(Failed::Invalid(m))) => errored(json!(seq), m, "invalid_argument"),
        Ok(Err(Failed::Internal(m))) => errored(json!(seq), m, "internal"),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            errored(
                json!(seq),
                format!("panic: {}", message.unwrap_or_default()),
                "internal",
            )
        }
    }
}

/// Serves requests from stdin until `stop` or end of input.
pub fn run() {
    let mut session = Session::default();
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let reply = answer(&mut session, &line);
        if writeln!(stdout, "{reply}").and_then(|()| stdout.flush()).is_err() {
            break;
        }
        if session.stopping {
            break;
        }
    }
    discard(&mut session, Duration::ZERO); // stdin closed without stop: send nothing more
}

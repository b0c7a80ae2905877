//! Delivery: a bounded queue, one background worker, batching, retries, flush and close.
//!
//! Rules (the Snowplow tracker protocol, our `spec/driver/v1/capabilities.yaml`, issue 25):
//!
//! * Only a 2xx answer delivers a request. A status the [`RetryRule`] gives up on drops its
//!   events and reports them to the failure callback ([`FailureReason::Rejected`]).
//! * Other statuses, connection errors and timeouts are retried with capped, jittered,
//!   exponential back-off in milliseconds ([`RetryPolicy`]), honouring `Retry-After`. Every event
//!   keeps its `eid` across attempts and gets a fresh `stm` on each.
//! * After `max_attempts` the events go back to the head of the queue, in order, and wait for the
//!   next send ([`FailureReason::RetriesExhausted`] is reported; they are not dropped).
//! * An event too large for one request is never queued: `track` fails with
//!   [`Error::Oversized`](crate::Error) and the failure callback gets [`FailureReason::Oversized`].
//! * The queue holds at most `capacity` events; [`Overflow`] says what happens past that.
//! * The worker sends when `batch_size` events are queued, on [`Emitter::flush`], on
//!   [`Emitter::close`], and every `send_interval` if one is set; never otherwise.

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::payload::{push_with_stm, Payload, STM_FIELD_BYTES};
use crate::retry::{parse_retry_after, RetryPolicy};
use crate::store::EventStore;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// The default GET path.
pub const GET_PATH: &str = "/i";
/// The default POST path.
pub const POST_PATH: &str = "/com.snowplowanalytics.snowplow/tp2";
/// Schema of a POST body.
pub const PAYLOAD_DATA_SCHEMA: &str = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4";
/// Default largest POST body: just under the 1 MiB a Snowplow collector accepts by default.
pub const DEFAULT_MAX_POST_BYTES: usize = 1_000_000;
/// Bytes of a POST body around its items: `{"schema":"<payload_data 1-0-4>","data":[]}`.
const ENVELOPE_BYTES: usize = 23 + PAYLOAD_DATA_SCHEMA.len();
const POST_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// GET (one event per request, in the querystring) or POST (batches in a JSON body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `GET /i?e=pv&...`.
    Get,
    /// `POST /com.snowplowanalytics.snowplow/tp2` with a payload_data 1-0-4 body.
    #[default]
    Post,
}

/// What [`Emitter`] does with an event tracked while its queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Refuse the new event: `track` fails with `Error::QueueFull` (and the failure callback is
    /// told).
    #[default]
    RejectNew,
    /// Make room by dropping the oldest queued event (reported to the failure callback).
    DropOldest,
}

/// Why events were not delivered, as the failure callback is told.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// The event alone is larger than one request may be; it was never queued.
    Oversized {
        /// Its size in the request (POST body or GET URL), in bytes.
        bytes: usize,
        /// The limit it exceeds.
        limit: usize,
    },
    /// The collector answered a status the retry rule gives up on; the events were dropped.
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// Every attempt of one send failed; the events are back in the queue for the next send.
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// What the last one got.
        last: AttemptError,
    },
    /// The queue was full (see [`Overflow`]); these events were dropped.
    QueueOverflow {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The emitter closed before these events could be sent, and it has no store to keep them.
    Unsent,
}

impl FailureReason {
    /// Whether the events are gone for good (`false`: they wait in the queue).
    pub fn is_final(&self) -> bool {
        !matches!(self, FailureReason::RetriesExhausted { .. })
    }
}

/// How one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptError {
    /// A non-2xx status.
    Status(u16),
    /// No answer: connection refused or dropped, timeout, ...
    Transport(String),
}

/// Events that were not delivered, and why.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Why.
    pub reason: FailureReason,
    /// The events, as they would have been sent (without `stm`).
    pub events: Vec<Payload>,
}

/// A request, as handed to an [`HttpClient`].
#[derive(Debug)]
pub struct HttpRequest<'a> {
    /// GET or POST.
    pub method: Method,
    /// The full URL (with the querystring for GET).
    pub url: &'a str,
    /// The POST body.
    pub body: Option<&'a [u8]>,
    /// Headers to send (content type included).
    pub headers: &'a [(String, String)],
}

/// The outcome of one HTTP exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpOutcome {
    /// The collector answered.
    Status {
        /// The status code.
        code: u16,
        /// Its `Retry-After` header, if any.
        retry_after: Option<String>,
    },
    /// There was no answer.
    Transport(String),
}

/// Sends one request. The default is [`UreqClient`]; tests and other runtimes bring their own.
pub trait HttpClient: Send + Sync {
    /// Performs `request`, giving up after the client's own timeout.
    fn send(&self, request: &HttpRequest<'_>) -> HttpOutcome;
}

/// The default [`HttpClient`]: a blocking `ureq` agent with a per-request timeout, keep-alive
/// connections and no redirects.
pub struct UreqClient {
    agent: ureq::Agent,
}

impl UreqClient {
    /// A client giving up on an exchange after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(format!("plowline-tracker-rust/{}", crate::VERSION))
            .build()
            .into();
        UreqClient { agent }
    }
}

impl fmt::Debug for UreqClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UreqClient")
    }
}

impl HttpClient for UreqClient {
    fn send(&self, request: &HttpRequest<'_>) -> HttpOutcome {
        let result = match (request.method, request.body) {
            (Method::Post, body) => {
                let mut builder = self.agent.post(request.url);
                for (name, value) in request.headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                builder.send(body.unwrap_or_default())
            }
            (Method::Get, _) => {
                let mut builder = self.agent.get(request.url);
                for (name, value) in request.headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                builder.call()
            }
        };
        match result {
            Ok(response) => {
                let code = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                // Read the (small) body so the connection can be reused.
                let _ = response.into_body().with_config().limit(64 * 1024).read_to_vec();
                HttpOutcome::Status { code, retry_after }
            }
            Err(error) => HttpOutcome::Transport(error.to_string()),
        }
    }
}

type FailureCallback = Arc<dyn Fn(&Failure) + Send + Sync>;
type SuccessCallback = Arc<dyn Fn(&[Payload]) + Send + Sync>;

/// Builds an [`Emitter`]: `Emitter::builder("https://collector.example").build()`.
pub struct EmitterBuilder {
    endpoint: String,
    method: Method,
    get_path: String,
    post_path: String,
    batch_size: usize,
    max_post_bytes: usize,
    max_get_bytes: Option<usize>,
    retry: RetryPolicy,
    request_timeout: Duration,
    headers: Vec<(String, String)>,
    anonymous: bool,
    capacity: usize,
    overflow: Overflow,
    store: Option<Box<dyn EventStore>>,
    on_failure: Option<FailureCallback>,
    on_success: Option<SuccessCallback>,
    http: Option<Arc<dyn HttpClient>>,
    clock: Arc<dyn Clock>,
    send_interval: Option<Duration>,
    close_timeout: Duration,
}

impl EmitterBuilder {
    /// Sends with `method` (POST by default).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The GET path (default `/i`).
    pub fn get_path(mut self, path: impl Into<String>) -> Self {
        self.get_path = path.into();
        self
    }

    /// The POST path (default `/com.snowplowanalytics.snowplow/tp2`).
    pub fn post_path(mut self, path: impl Into<String>) -> Self {
        self.post_path = path.into();
        self
    }

    /// Sends once this many events are queued; a POST carries at most this many (default 1).
    pub fn batch_size(mut self, events: usize) -> Self {
        self.batch_size = events;
        self
    }

    /// Largest POST body in bytes (default [`DEFAULT_MAX_POST_BYTES`]); bigger batches are
    /// split, and an event too big for a body of its own is [`FailureReason::Oversized`].
    pub fn max_post_bytes(mut self, bytes: usize) -> Self {
        self.max_post_bytes = bytes;
        self
    }

    /// Largest GET URL in bytes (default: no limit).
    pub fn max_get_bytes(mut self, bytes: usize) -> Self {
        self.max_get_bytes = Some(bytes);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Gives up on one HTTP exchange after this long (default 5 s); it then counts as failed.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Adds a header to every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends `SP-Anonymous: *`, asking the collector not to keep the user's IP address or set a
    /// network user id cookie.
    pub fn anonymous(mut self, on: bool) -> Self {
        self.anonymous = on;
        self
    }

    /// The queue's capacity in events (default 10 000).
    pub fn capacity(mut self, events: usize) -> Self {
        self.capacity = events;
        self
    }

    /// What happens to events tracked while the queue is full (default [`Overflow::RejectNew`]).
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Keeps unsent events in `store`; the emitter first sends what the store already holds.
    pub fn store(mut self, store: impl EventStore + 'static) -> Self {
        self.store = Some(Box::new(store));
        self
    }

    /// Called (on the worker thread, or in `track`) with every event not delivered.
    pub fn on_failure(mut self, callback: impl Fn(&Failure) + Send + Sync + 'static) -> Self {
        self.on_failure = Some(Arc::new(callback));
        self
    }

    /// Called on the worker thread with the events of every request answered 2xx.
    pub fn on_success(mut self, callback: impl Fn(&[Payload]) + Send + Sync + 'static) -> Self {
        self.on_success = Some(Arc::new(callback));
        self
    }

    /// Sends through `client` instead of the default [`UreqClient`].
    pub fn http_client(mut self, client: impl HttpClient + 'static) -> Self {
        self.http = Some(Arc::new(client));
        self
    }

    /// The clock that stamps `stm` (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Also sends whatever is queued this often (default: never on a timer).
    pub fn send_interval(mut self, interval: Duration) -> Self {
        self.send_interval = Some(interval);
        self
    }

    /// How long dropping the emitter may spend sending what is queued (default 5 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Starts the emitter's worker thread.
    pub fn build(self) -> Result<Emitter> {
        if !(self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://")) {
            return Err(Error::InvalidConfig(format!(
                "endpoint {:?} must start with http:// or https://",
                self.endpoint
            )));
        }
        if self.batch_size == 0 || self.capacity == 0 {
            return Err(Error::InvalidConfig(
                "batch size and capacity must be at least 1".into(),
            ));
        }
        if self.retry.max_attempts == 0 || self.retry.multiplier.is_nan() || self.retry.multiplier < 1.0 {
            return Err(Error::InvalidConfig(
                "retries need max_attempts >= 1 and multiplier >= 1".into(),
            ));
        }
        if !self.get_path.starts_with('/') || !self.post_path.starts_with('/') {
            return Err(Error::InvalidConfig("paths must start with '/'".into()));
        }
        let envelope = post_body(&[]).len();
        if self.max_post_bytes <= envelope {
            return Err(Error::InvalidConfig(format!(
                "max_post_bytes must exceed the {envelope}-byte envelope"
            )));
        }
        let mut headers = self.headers;
        if self.anonymous {
            headers.push(("SP-Anonymous".into(), "*".into()));
        }
        let mut store = self.store;
        let mut queue = VecDeque::new();
        let mut next_key = 1;
        if let Some(store) = store.as_mut() {
            for (key, payload) in store.load()? {
                next_key = next_key.max(key + 1);
                queue.push_back(Queued::new(key, payload, self.method));
            }
        }
        let endpoint = self.endpoint.trim_end_matches('/').to_owned();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue,
                in_flight: 0,
                next_key,
                flush_requested: 0,
                flush_done: 0,
                closing: None,
                paused_until: None,
                abandoned: 0,
                store,
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            config: Config {
                method: self.method,
                get_url: format!("{endpoint}{}", self.get_path),
                post_url: format!("{endpoint}{}", self.post_path),
                batch_size: self.batch_size,
                max_post_bytes: self.max_post_bytes,
                max_get_bytes: self.max_get_bytes,
                retry: self.retry,
                headers,
                capacity: self.capacity,
                overflow: self.overflow,
                on_failure: self.on_failure,
                on_success: self.on_success,
                send_interval: self.send_interval,
            },
            http: self
                .http
                .unwrap_or_else(|| Arc::new(UreqClient::new(self.request_timeout))),
            clock: self.clock,
        });
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("plowline-emitter".into())
            .spawn(move || worker_shared.run())
            .map_err(Error::Store)?;
        Ok(Emitter {
            shared,
            worker: Mutex::new(Some(worker)),
            close_timeout: self.close_timeout,
        })
    }
}

struct Config {
    method: Method,
    get_url: String,
    post_url: String,
    batch_size: usize,
    max_post_bytes: usize,
    max_get_bytes: Option<usize>,
    retry: RetryPolicy,
    headers: Vec<(String, String)>,
    capacity: usize,
    overflow: Overflow,
    on_failure: Option<FailureCallback>,
    on_success: Option<SuccessCallback>,
    send_interval: Option<Duration>,
}

struct Queued {
    key: u64,
    payload: Payload,
    /// The payload as JSON text without `stm` (POST), serialised once, on the caller's thread.
    json: String,
}

impl Queued {
    fn new(key: u64, payload: Payload, method: Method) -> Self {
        let json = if method == Method::Post {
            payload.to_json_text()
        } else {
            String::new()
        };
        Queued { key, payload, json }
    }

    /// Bytes this event adds to a POST body's `data` array (`stm` and a separating comma too).
    fn post_size(&self) -> usize {
        self.json.len() + STM_FIELD_BYTES + 1
    }
}

struct State {
    queue: VecDeque<Queued>,
    in_flight: usize,
    next_key: u64,
    flush_requested: u64,
    flush_done: u64,
    /// Set by close: the time by which the worker must stop starting requests.
    closing: Option<Instant>,
    /// After a send exhausted its retries, full batches wait until then (flush and close don't).
    paused_until: Option<Instant>,
    /// Events reported unsent when the worker stopped.
    abandoned: usize,
    store: Option<Box<dyn EventStore>>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the worker (new events, flush, close).
    work: Condvar,
    /// Wakes flush callers (a flush round ended).
    done: Condvar,
    config: Config,
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
}

/// Sends events to a collector from a background thread. `Send + Sync`; share it through a
/// [`crate::Tracker`] (or an `Arc`). Dropping it closes it with its close timeout.
pub struct Emitter {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
    close_timeout: Duration,
}

impl fmt::Debug for Emitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter")
            .field("queued", &self.queued())
            .finish_non_exhaustive()
    }
}

/// The outcome of one request with its retries.
enum Sent {
    Delivered,
    Rejected(u16),
    Exhausted {
        attempts: u32,
        last: AttemptError,
    },
    /// Close's deadline came first.
    Aborted,
}

fn post_body(items: &[String]) -> String {
    #[cfg(feature = "mutants")]
    let schema = if crate::mutant::active("rust-payload-schema-1-0-3") {
        "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-3"
    } else {
        PAYLOAD_DATA_SCHEMA
    };
    #[cfg(not(feature = "mutants"))]
    let schema = PAYLOAD_DATA_SCHEMA;
    let mut body = String::with_capacity(96 + items.iter().map(|i| i.len() + 1).sum::<usize>());
    body.push_str("{\"schema\":\"");
    body.push_str(schema);
    body.push_str("\",\"data\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push_str("]}");
    body
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panicking callback must not wedge the tracker: the state stays consistent between
    // statements, so a poisoned lock is still usable.
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Emitter {
    /// A builder for an emitter sending to `endpoint` (`http(s)://host[:port]`, no path).
    pub fn builder(endpoint: impl Into<String>) -> EmitterBuilder {
        EmitterBuilder {
            endpoint: endpoint.into(),
            method: Method::Post,
            get_path: GET_PATH.into(),
            post_path: POST_PATH.into(),
            batch_size: 1,
            max_post_bytes: DEFAULT_MAX_POST_BYTES,
            max_get_bytes: None,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(5),
            headers: Vec::new(),
            anonymous: false,
            capacity: 10_000,
            overflow: Overflow::RejectNew,
            store: None,
            on_failure: None,
            on_success: None,
            http: None,
            clock: Arc::new(SystemClock),
            send_interval: None,
            close_timeout: Duration::from_secs(5),
        }
    }

    /// Queues events (all or none), to be sent in order.
    pub fn add(&self, events: Vec<Payload>) -> Result<()> {
        let config = &self.shared.config;
        let mut items: Vec<Queued> = events
            .into_iter()
            .map(|p| Queued::new(0, p, config.method))
            .collect();
        for item in &items {
            if let Some((bytes, limit)) = self.oversize(item) {
                let reason = FailureReason::Oversized { bytes, limit };
                self.shared.report(reason, vec![item.payload.clone()]);
                return Err(Error::Oversized { bytes, limit });
            }
        }
        let overflow = FailureReason::QueueOverflow {
            capacity: config.capacity,
        };
        let mut state = lock(&self.shared.state);
        if state.closing.is_some() {
            return Err(Error::Closed);
        }
        let room = config
            .capacity
            .saturating_sub(state.queue.len() + state.in_flight);
        let mut evicted = Vec::new();
        if items.len() > room {
            if config.overflow == Overflow::RejectNew || items.len() - room > state.queue.len() {
                drop(state);
                self.shared
                    .report(overflow, items.into_iter().map(|q| q.payload).collect());
                return Err(Error::QueueFull {
                    capacity: config.capacity,
                });
            }
            evicted = state.queue.drain(..items.len() - room).collect();
            let keys: Vec<u64> = evicted.iter().map(|q| q.key).collect();
            if let Some(store) = state.store.as_mut() {
                store.remove(&keys)?;
            }
        }
        let first_key = state.next_key;
        for (i, item) in items.iter_mut().enumerate() {
            item.key = first_key + i as u64;
        }
        let mut stored = Ok(());
        if let Some(store) = state.store.as_mut() {
            for (i, item) in items.iter().enumerate() {
                if let Err(error) = store.append(item.key, &item.payload) {
                    // All or none: take back what this call already stored.
                    let done: Vec<u64> = items[..i].iter().map(|q| q.key).collect();
                    let _ = store.remove(&done);
                    stored = Err(error);
                    break;
                }
            }
        }
        if let Err(error) = stored {
            drop(state);
            if !evicted.is_empty() {
                self.shared
                    .report(overflow, evicted.into_iter().map(|q| q.payload).collect());
            }
            return Err(error.into());
        }
        state.next_key += items.len() as u64;
        state.queue.extend(items);
        if state.queue.len() >= config.batch_size {
            self.shared.work.notify_all();
        }
        drop(state);
        if !evicted.is_empty() {
            self.shared
                .report(overflow, evicted.into_iter().map(|q| q.payload).collect());
        }
        Ok(())
    }

    fn oversize(&self, item: &Queued) -> Option<(usize, usize)> {
        let config = &self.shared.config;
        match config.method {
            Method::Post => {
                let bytes = ENVELOPE_BYTES + item.post_size() - 1;
                (bytes > config.max_post_bytes).then_some((bytes, config.max_post_bytes))
            }
            Method::Get => {
                let limit = config.max_get_bytes?;
                let stm = "&stm=1665398554084".len();
                let bytes = config.get_url.len() + 1 + item.payload.to_query().len() + stm;
                (bytes > limit).then_some((bytes, limit))
            }
        }
    }

    /// Events queued or being sent.
    pub fn queued(&self) -> usize {
        let state = lock(&self.shared.state);
        state.queue.len() + state.in_flight
    }

    /// Sends everything queued now, waiting up to `timeout` (including retries and their
    /// back-off). Returns whether the queue is empty afterwards.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = lock(&self.shared.state);
        state.flush_requested += 1;
        let ticket = state.flush_requested;
        self.shared.work.notify_all();
        while state.flush_done < ticket {
            let now = Instant::now();
            if now >= deadline || self.worker_finished() {
                break;
            }
            state = self
                .shared
                .done
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        state.queue.is_empty() && state.in_flight == 0
    }

    fn worker_finished(&self) -> bool {
        self.worker
            .lock()
            .map_or(true, |w| w.as_ref().is_none_or(JoinHandle::is_finished))
    }

    /// Sends what is queued for up to `timeout`, then stops the worker and waits for it (an
    /// exchange already under way finishes first, bounded by the request timeout). No request
    /// starts after this returns. Events left are kept by the store, or reported as
    /// [`FailureReason::Unsent`] without one. Returns whether everything was delivered.
    pub fn close(&self, timeout: Duration) -> bool {
        {
            let mut state = lock(&self.shared.state);
            if state.closing.is_none() {
                state.closing = Some(Instant::now() + timeout);
            }
            self.shared.work.notify_all();
        }
        let handle = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        let state = lock(&self.shared.state);
        state.queue.is_empty() && state.in_flight == 0 && state.abandoned == 0
    }
}

impl Drop for Emitter {
    fn drop(&mut self) {
        self.close(self.close_timeout);
    }
}

impl Shared {
    fn report(&self, reason: FailureReason, events: Vec<Payload>) {
        if let Some(callback) = &self.config.on_failure {
            let failure = Failure { reason, events };
            // A panicking callback must not kill the worker (nothing would be sent again).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(&failure)));
        }
    }

    fn run(&self) {
        let mut state = lock(&self.state);
        let mut last_timer = Instant::now();
        loop {
            // Wait for work.
            let mut timer_due = false;
            loop {
                if state.closing.is_some() || state.flush_requested > state.flush_done {
                    break;
                }
                let paused = state.paused_until.filter(|&until| Instant::now() < until);
                if state.queue.len() >= self.config.batch_size && paused.is_none() {
                    break;
                }
                let wake = match (paused, self.config.send_interval) {
                    (Some(until), _) if state.queue.len() >= self.config.batch_size => {
                        Some(until - Instant::now())
                    }
                    _ => None,
                };
                if let Some(wait) = wake {
                    state = self
                        .work
                        .wait_timeout(state, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                    continue;
                }
                match self.config.send_interval {
                    Some(interval) => {
                        let elapsed = last_timer.elapsed();
                        if elapsed >= interval {
                            last_timer = Instant::now();
                            if !state.queue.is_empty() {
                                timer_due = true;
                                break;
                            }
                            continue;
                        }
                        state = self
                            .work
                            .wait_timeout(state, interval - elapsed)
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                    }
                    None => state = self.work.wait(state).unwrap_or_else(|p| p.into_inner()),
                }
            }
            let closing = state.closing.is_some();
            let ticket = state.flush_requested;
            #[cfg(feature = "mutants")]
            let flushing = ticket > state.flush_done && !crate::mutant::active("rust-batch-never-flushed");
            #[cfg(not(feature = "mutants"))]
            let flushing = ticket > state.flush_done;
            let send_all = closing || timer_due || flushing;
            state = self.round(state, send_all);
            if ticket > state.flush_done {
                state.flush_done = ticket;
            }
            self.done.notify_all();
            if closing {
                self.finish(state);
                return;
            }
        }
    }

    /// Sends batches until the queue is empty (or below a batch, unless `send_all`), a send
    /// exhausts its retries, or close's deadline passes.
    fn round<'a>(&'a self, mut state: MutexGuard<'a, State>, send_all: bool) -> MutexGuard<'a, State> {
        // Without send_all, only whole batches go (a GET batch is several one-event requests).
        let size = self.config.batch_size;
        let mut budget = if send_all {
            usize::MAX
        } else {
            state.queue.len() / size * size
        };
        loop {
            if state.queue.is_empty() || budget == 0 || state.closing.is_some_and(|d| Instant::now() >= d) {
                return state;
            }
            let batch = self.take_request(&mut state, budget);
            budget = budget.saturating_sub(batch.len());
            state.in_flight = batch.len();
            drop(state);
            let outcome = self.send(&batch);
            state = lock(&self.state);
            state.in_flight = 0;
            match outcome {
                Sent::Delivered | Sent::Rejected(_) => {
                    let keys: Vec<u64> = batch.iter().map(|q| q.key).collect();
                    let store_error = state.store.as_mut().and_then(|s| s.remove(&keys).err());
                    drop(state);
                    let payloads: Vec<Payload> = batch.into_iter().map(|q| q.payload).collect();
                    match outcome {
                        Sent::Rejected(status) => self.report(FailureReason::Rejected { status }, payloads),
                        _ => {
                            if let Some(callback) = &self.config.on_success {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    callback(&payloads)
                                }));
                            }
                        }
                    }
                    if let Some(error) = store_error {
                        eprintln!("plowline-tracker: could not update the event store: {error}");
                    }
                    state = lock(&self.state);
                }
                Sent::Exhausted { attempts, last } => {
                    let payloads: Vec<Payload> = batch.iter().map(|q| q.payload.clone()).collect();
                    requeue(&mut state, batch);
                    state.paused_until = Some(Instant::now() + self.config.retry.max_backoff);
                    drop(state);
                    self.report(FailureReason::RetriesExhausted { attempts, last }, payloads);
                    return lock(&self.state);
                }
                Sent::Aborted => {
                    requeue(&mut state, batch);
                    return state;
                }
            }
        }
    }

    /// Takes the next request's events from the head of the queue: one for GET; for POST up
    /// to the batch size and the byte limit.
    fn take_request(&self, state: &mut State, budget: usize) -> Vec<Queued> {
        #[cfg(feature = "mutants")]
        if crate::mutant::active("rust-batch-reversed") && self.config.method == Method::Post {
            let n = state.queue.len().min(self.config.batch_size);
            let mut batch: Vec<Queued> = state.queue.drain(..n).collect();
            batch.reverse();
            return batch;
        }
        let mut batch = Vec::new();
        if self.config.method == Method::Get {
            batch.extend(state.queue.pop_front());
            return batch;
        }
        let mut bytes = ENVELOPE_BYTES;
        while batch.len() < self.config.batch_size.min(budget) {
            let Some(next) = state.queue.front() else { break };
            let size = next.post_size() - usize::from(batch.is_empty());
            #[cfg(feature = "mutants")]
            let size = if crate::mutant::active("rust-byte-limit-ignored") {
                0
            } else {
                size
            };
            if !batch.is_empty() && bytes + size > self.config.max_post_bytes {
                break;
            }
            bytes += size;
            batch.extend(state.queue.pop_front());
        }
        batch
    }

    /// One request with its retries.
    fn send(&self, batch: &[Queued]) -> Sent {
        let policy = &self.config.retry;
        #[cfg(feature = "mutants")]
        let max_attempts = if crate::mutant::active("rust-no-retry") {
            1
        } else {
            policy.max_attempts
        };
        #[cfg(not(feature = "mutants"))]
        let max_attempts = policy.max_attempts;
        let mut attempt = 1;
        loop {
            let (url, body) = self.render(batch);
            let mut headers = self.config.headers.clone();
            if self.config.method == Method::Post {
                #[cfg(feature = "mutants")]
                let content_type = if crate::mutant::active("rust-content-type-text-plain") {
                    "text/plain"
                } else {
                    POST_CONTENT_TYPE
                };
                #[cfg(not(feature = "mutants"))]
                let content_type = POST_CONTENT_TYPE;
                headers.push(("Content-Type".into(), content_type.into()));
            }
            let request = HttpRequest {
                method: self.config.method,
                url: &url,
                body: body.as_deref().map(str::as_bytes),
                headers: &headers,
            };
            let (error, retry_after) = match self.http.send(&request) {
                HttpOutcome::Status { code, .. } if (200..300).contains(&code) => return Sent::Delivered,
                HttpOutcome::Status { code, .. } if !policy.rule.should_retry(code) => {
                    return Sent::Rejected(code)
                }
                HttpOutcome::Status { code, retry_after } => (
                    AttemptError::Status(code),
                    retry_after.and_then(|v| parse_retry_after(&v, SystemTime::now())),
                ),
                HttpOutcome::Transport(message) => (AttemptError::Transport(message), None),
            };
            if attempt >= max_attempts {
                return Sent::Exhausted {
                    attempts: attempt,
                    last: error,
                };
            }
            let wait = policy.delay(attempt, retry_after, random_unit);
            if !self.sleep(wait) {
                return Sent::Aborted;
            }
            attempt += 1;
        }
    }

    /// The URL and body of one attempt, `stm` stamped now.
    fn render(&self, batch: &[Queued]) -> (String, Option<String>) {
        let stm = self.clock.now_ms().to_string();
        #[cfg(feature = "mutants")]
        let stamp = !crate::mutant::active("rust-stm-missing");
        #[cfg(not(feature = "mutants"))]
        let stamp = true;
        match self.config.method {
            Method::Get => {
                let mut payload = batch[0].payload.clone();
                if stamp {
                    payload.set("stm", stm);
                }
                (format!("{}?{}", self.config.get_url, payload.to_query()), None)
            }
            Method::Post => {
                let items: Vec<String> = batch
                    .iter()
                    .map(|q| {
                        let mut item = String::with_capacity(q.json.len() + STM_FIELD_BYTES);
                        push_with_stm(&mut item, &q.json, stamp.then_some(stm.as_str()));
                        item
                    })
                    .collect();
                (self.config.post_url.clone(), Some(post_body(&items)))
            }
        }
    }

    /// Waits `wait` unless close's deadline comes first; `false` if it did.
    fn sleep(&self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        let mut state = lock(&self.state);
        loop {
            if state.closing.is_some_and(|deadline| deadline < until) {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            state = self
                .work
                .wait_timeout(state, until - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// After close: what is left stays in the store, or is reported as unsent.
    fn finish(&self, mut state: MutexGuard<'_, State>) {
        if state.store.is_some() || state.queue.is_empty() {
            return;
        }
        let left: Vec<Payload> = state.queue.drain(..).map(|q| q.payload).collect();
        state.abandoned = left.len();
        drop(state);
        self.report(FailureReason::Unsent, left);
    }
}

fn requeue(state: &mut State, batch: Vec<Queued>) {
    for queued in batch.into_iter().rev() {
        state.queue.push_front(queued);
    }
}

/// A uniform number in [0, 1) for jitter (xorshift on a per-thread seed; not for secrets).
fn random_unit() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
            (nanos ^ 0x9e37_79b9_7f4a_7c15) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_size_is_what_post_body_writes() {
        assert_eq!(ENVELOPE_BYTES, post_body(&[]).len());
    }

    #[test]
    fn a_queued_item_knows_its_exact_size_in_a_body() {
        let mut p = Payload::new();
        p.set("e", "pv");
        p.set("page", "Café \"quoted\"");
        let one = Queued::new(1, p.clone(), Method::Post);
        let two = Queued::new(2, p, Method::Post);
        let stm = "1665398554084";
        let render = |q: &Queued| {
            let mut s = String::new();
            push_with_stm(&mut s, &q.json, Some(stm));
            s
        };
        let body = post_body(&[render(&one), render(&two)]);
        assert_eq!(body.len(), ENVELOPE_BYTES + one.post_size() - 1 + two.post_size());
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["data"][1]["page"], "Café \"quoted\"");
        assert_eq!(parsed["data"][0]["stm"], stm);
    }
}

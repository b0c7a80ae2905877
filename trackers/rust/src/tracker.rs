//! The tracker: turns events into wire payloads and hands them to its emitter.

use crate::clock::{Clock, EventIdFactory, RandomIds, SystemClock};
use crate::emitter::Emitter;
use crate::error::{Error, Result};
use crate::events::{Event, SelfDescribingJson, CONTEXTS_SCHEMA, UNSTRUCT_EVENT_SCHEMA};
use crate::payload::Payload;
use crate::subject::Subject;
use serde_json::{json, Value};
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;

/// The `tv` this tracker sends.
pub const TRACKER_VERSION: &str = concat!("rust-plowline-", env!("CARGO_PKG_VERSION"));

/// The platform an app runs on (`p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Platform {
    /// `web`.
    Web,
    /// `mob`.
    Mobile,
    /// `pc`.
    Desktop,
    /// `srv`: a server-side app (the default).
    #[default]
    Server,
    /// `app`: a general app.
    App,
    /// `tv`.
    Tv,
    /// `cnsl`: a games console.
    Console,
    /// `iot`.
    Iot,
    /// `headset`.
    Headset,
}

impl Platform {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Web => "web",
            Platform::Mobile => "mob",
            Platform::Desktop => "pc",
            Platform::Server => "srv",
            Platform::App => "app",
            Platform::Tv => "tv",
            Platform::Console => "cnsl",
            Platform::Iot => "iot",
            Platform::Headset => "headset",
        }
    }
}

impl std::str::FromStr for Platform {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self> {
        Ok(match value {
            "web" => Platform::Web,
            "mob" => Platform::Mobile,
            "pc" => Platform::Desktop,
            "srv" => Platform::Server,
            "app" => Platform::App,
            "tv" => Platform::Tv,
            "cnsl" => Platform::Console,
            "iot" => Platform::Iot,
            "headset" => Platform::Headset,
            other => return Err(Error::InvalidConfig(format!("unknown platform {other:?}"))),
        })
    }
}

/// What a global-context generator is told about the event it may add entities to.
#[derive(Debug, Clone, Copy)]
pub struct EventInfo<'a> {
    /// The event code (`pv`, `se`, `ue`, `tr`, ...).
    pub event_type: &'a str,
    /// The schema of a self-describing event.
    pub schema: Option<&'a str>,
}

type Generator = Arc<dyn Fn(&EventInfo<'_>) -> Vec<SelfDescribingJson> + Send + Sync>;

/// Entities the tracker adds to every event.
#[derive(Clone)]
enum GlobalContext {
    Static(SelfDescribingJson),
    Generated(Generator),
}

/// Builds a [`Tracker`]: `Tracker::builder("ns", emitter).app_id("shop").build()`.
pub struct TrackerBuilder {
    namespace: String,
    emitter: Emitter,
    app_id: Option<String>,
    platform: Platform,
    encode_base64: bool,
    subject: Subject,
    anonymous: bool,
    globals: Vec<GlobalContext>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn EventIdFactory>,
}

impl TrackerBuilder {
    /// The application id (`aid`).
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The platform (`p`, default `srv`).
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// Base64url-encode entities and self-describing events (`cx`, `ue_px`; the default) or
    /// send them as JSON text (`co`, `ue_pr`).
    pub fn encode_base64(mut self, on: bool) -> Self {
        self.encode_base64 = on;
        self
    }

    /// The subject sent with every event.
    pub fn subject(mut self, subject: Subject) -> Self {
        self.subject = subject;
        self
    }

    /// Leaves out every user identifier (`uid`, `duid`, `tnuid`, `ip`, `sid`, `vid`), also those
    /// given per event. Pair it with [`crate::EmitterBuilder::anonymous`] for `SP-Anonymous`.
    pub fn anonymous(mut self, on: bool) -> Self {
        self.anonymous = on;
        self
    }

    /// Adds `entity` to every event.
    pub fn global_context(mut self, entity: SelfDescribingJson) -> Self {
        self.globals.push(GlobalContext::Static(entity));
        self
    }

    /// Adds the entities `generator` returns to every event (it may look at the event and
    /// return none).
    pub fn global_context_generator(
        mut self,
        generator: impl Fn(&EventInfo<'_>) -> Vec<SelfDescribingJson> + Send + Sync + 'static,
    ) -> Self {
        self.globals.push(GlobalContext::Generated(Arc::new(generator)));
        self
    }

    /// The clock for `dtm` (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The event-id factory (default: random version-4 UUIDs).
    pub fn event_ids(mut self, ids: Arc<dyn EventIdFactory>) -> Self {
        self.ids = ids;
        self
    }

    /// The tracker.
    pub fn build(self) -> Result<Tracker> {
        if self.namespace.is_empty() {
            return Err(Error::InvalidConfig("the namespace must not be empty".into()));
        }
        for global in &self.globals {
            if let GlobalContext::Static(entity) = global {
                entity
                    .validate("global context")
                    .map_err(|e| Error::InvalidConfig(e.to_string()))?;
            }
        }
        Ok(Tracker {
            inner: Arc::new(Inner {
                namespace: self.namespace,
                app_id: self.app_id,
                platform: self.platform,
                encode_base64: self.encode_base64,
                subject: RwLock::new(self.subject),
                anonymous: self.anonymous,
                globals: self.globals,
                clock: self.clock,
                ids: self.ids,
                emitter: self.emitter,
            }),
        })
    }
}

struct Inner {
    namespace: String,
    app_id: Option<String>,
    platform: Platform,
    encode_base64: bool,
    subject: RwLock<Subject>,
    anonymous: bool,
    globals: Vec<GlobalContext>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn EventIdFactory>,
    emitter: Emitter,
}

/// Tracks events. Cheap to clone (all clones share one emitter), `Send + Sync`.
///
/// ```no_run
/// use plowline_tracker::{Emitter, PageView, Tracker};
/// let emitter = Emitter::builder("http://127.0.0.1:9090").build()?;
/// let tracker = Tracker::builder("my-namespace", emitter).app_id("shop").build()?;
/// let id = tracker.track(PageView::new("https://shop.example/").title("Shop"))?;
/// tracker.flush(std::time::Duration::from_secs(5));
/// # Ok::<(), plowline_tracker::Error>(())
/// ```
#[derive(Clone)]
pub struct Tracker {
    inner: Arc<Inner>,
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("namespace", &self.inner.namespace)
            .field("app_id", &self.inner.app_id)
            .field("platform", &self.inner.platform)
            .finish_non_exhaustive()
    }
}

impl Tracker {
    /// A builder for a tracker in `namespace` (`tna`) sending through `emitter`.
    pub fn builder(namespace: impl Into<String>, emitter: Emitter) -> TrackerBuilder {
        TrackerBuilder {
            namespace: namespace.into(),
            emitter,
            app_id: None,
            platform: Platform::default(),
            encode_base64: true,
            subject: Subject::default(),
            anonymous: false,
            globals: Vec::new(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
        }
    }

    /// Tracks `event` and returns its event id (for a transaction, the `tr` event's; see
    /// [`Tracker::track_all`]).
    pub fn track(&self, event: impl Into<Event>) -> Result<Uuid> {
        Ok(self.track_all(event)?[0])
    }

    /// Tracks `event` and returns the id of every wire event it makes, in order (a
    /// transaction: its own, then one per item).
    pub fn track_all(&self, event: impl Into<Event>) -> Result<Vec<Uuid>> {
        let event = event.into();
        let built = event.build()?;
        let common = event.common();
        let now = self.inner.clock.now_ms();
        let subject = {
            let base = self.inner.subject.read().unwrap_or_else(|p| p.into_inner());
            let merged = match &common.subject {
                Some(own) => base.merged_with(own),
                None => base.clone(),
            };
            if self.inner.anonymous {
                merged.anonymised()
            } else {
                merged
            }
        };
        let base64 = self.inner.encode_base64;
        let mut ids = Vec::with_capacity(built.len());
        let mut payloads = Vec::with_capacity(built.len());
        for b in built {
            let id = self.inner.ids.next_id();
            let mut p: Payload = b.payload;
            p.set("eid", id.to_string());
            p.set("dtm", now.to_string());
            #[cfg(feature = "mutants")]
            let ttm = common
                .true_timestamp_ms
                .filter(|_| !crate::mutant::active("rust-ttm-ignored"));
            #[cfg(not(feature = "mutants"))]
            let ttm = common.true_timestamp_ms;
            p.set_opt("ttm", ttm.map(|ms| ms.to_string()));
            #[cfg(feature = "mutants")]
            let send_tv = !crate::mutant::active("rust-tv-missing");
            #[cfg(not(feature = "mutants"))]
            let send_tv = true;
            if send_tv {
                p.set("tv", TRACKER_VERSION);
            }
            p.set("tna", self.inner.namespace.as_str());
            p.set_opt("aid", self.inner.app_id.as_deref());
            p.set("p", self.inner.platform.as_str());
            subject.write(&mut p);
            let info = EventInfo {
                event_type: p.get("e").unwrap_or_default(),
                schema: b.self_describing.as_ref().map(|s| s.schema.as_str()),
            };
            let mut entities: Vec<Value> = b.contexts.iter().map(SelfDescribingJson::to_json).collect();
            for global in &self.inner.globals {
                match global {
                    GlobalContext::Static(entity) => entities.push(entity.to_json()),
                    GlobalContext::Generated(generate) => {
                        for entity in generate(&info) {
                            entity.validate("generated global context")?;
                            entities.push(entity.to_json());
                        }
                    }
                }
            }
            if let Some(event) = &b.self_describing {
                let wrapper = json!({"schema": UNSTRUCT_EVENT_SCHEMA, "data": event.to_json()});
                p.set_json(base64, "ue_pr", "ue_px", &wrapper);
            }
            #[cfg(feature = "mutants")]
            if crate::mutant::active("rust-contexts-dropped") {
                entities.clear();
            }
            if !entities.is_empty() {
                let wrapper = json!({"schema": CONTEXTS_SCHEMA, "data": entities});
                p.set_json(base64, "co", "cx", &wrapper);
            }
            ids.push(id);
            payloads.push(p);
        }
        self.inner.emitter.add(payloads)?;
        Ok(ids)
    }

    /// Replaces the subject sent with every later event.
    pub fn set_subject(&self, subject: Subject) {
        *self.inner.subject.write().unwrap_or_else(|p| p.into_inner()) = subject;
    }

    /// The subject sent with every event.
    pub fn subject(&self) -> Subject {
        self.inner
            .subject
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The emitter.
    pub fn emitter(&self) -> &Emitter {
        &self.inner.emitter
    }

    /// Sends everything tracked so far, waiting up to `timeout`; whether all was delivered.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.inner.emitter.flush(timeout)
    }

    /// Sends what is queued for up to `timeout`, then stops sending (see [`Emitter::close`]).
    /// Later `track` calls fail with [`Error::Closed`].
    pub fn close(&self, timeout: Duration) -> bool {
        self.inner.emitter.close(timeout)
    }
}

#[cfg(feature = "tokio")]
impl Tracker {
    /// [`Tracker::flush`] without blocking the async runtime (it waits on a blocking thread).
    pub async fn flush_async(&self, timeout: Duration) -> bool {
        let tracker = self.clone();
        tokio::task::spawn_blocking(move || tracker.flush(timeout))
            .await
            .unwrap_or(false)
    }

    /// [`Tracker::close`] without blocking the async runtime.
    pub async fn close_async(&self, timeout: Duration) -> bool {
        let tracker = self.clone();
        tokio::task::spawn_blocking(move || tracker.close(timeout))
            .await
            .unwrap_or(false)
    }
}

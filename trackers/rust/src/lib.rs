//! A tracker for the Snowplow tracker protocol, as Plowline specifies it (`spec/` in the
//! Plowline repository): page views, structured and self-describing events, screen views,
//! link clicks, timings, ecommerce and more, sent over GET or POST by a background emitter with
//! batching, retries, `Retry-After`, a bounded queue and an optional crash-safe file journal.
//!
//! ```no_run
//! use plowline_tracker::{Emitter, PageView, Tracker};
//! use std::time::Duration;
//!
//! let tracker = Tracker::builder("ns", Emitter::builder("http://127.0.0.1:9090").build()?).build()?;
//! tracker.track(PageView::new("https://a.example/").title("Home"))?;
//! tracker.close(Duration::from_secs(5));
//! # Ok::<(), plowline_tracker::Error>(())
//! ```
//!
//! Everything is blocking and thread-safe (`Tracker: Send + Sync + Clone`): `track` only builds
//! the payload and queues it; one worker thread per emitter does the HTTP. With the `tokio`
//! feature, [`Tracker::flush_async`] and [`Tracker::close_async`] wait without blocking a runtime.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod clock;
mod emitter;
mod encode;
mod error;
mod events;
#[cfg(feature = "mutants")]
mod mutant;
mod payload;
mod retry;
mod store;
mod subject;
mod tracker;

pub use clock::{Clock, EventIdFactory, ManualClock, RandomIds, SystemClock};
pub use emitter::{
    AttemptError, Emitter, EmitterBuilder, Failure, FailureReason, HttpClient, HttpOutcome, HttpRequest,
    Method, Overflow, UreqClient, DEFAULT_MAX_POST_BYTES, GET_PATH, PAYLOAD_DATA_SCHEMA, POST_PATH,
};
pub use error::{Error, Result};
pub use events::{
    CartAction, CartChange, EcommerceTransaction, Event, FormElement, FormField, FormFieldAction, LinkClick,
    PagePing, PageView, ScreenView, ScreenViewSchema, SelfDescribing, SelfDescribingJson, SiteSearch,
    Structured, SubmitForm, Timing, TransactionItem, CONTEXTS_SCHEMA, UNSTRUCT_EVENT_SCHEMA,
};
pub use payload::Payload;
pub use retry::{RetryPolicy, RetryRule};
pub use store::{EventStore, FileStore};
pub use subject::Subject;
pub use tracker::{EventInfo, Platform, Tracker, TrackerBuilder, TRACKER_VERSION};

/// This crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

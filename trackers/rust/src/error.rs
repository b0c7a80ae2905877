//! The crate's error type.

use std::fmt;
use std::io;

/// Everything a tracker call can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The event breaks a rule of the tracker protocol or of its schema (the message says which).
    InvalidEvent(String),
    /// A builder was given a setting it cannot use.
    InvalidConfig(String),
    /// The emitter's queue is full and its overflow policy rejects new events.
    QueueFull {
        /// The queue's capacity, in events.
        capacity: usize,
    },
    /// The event alone is larger than one request may be (POST body or GET URL); it was not
    /// queued, and the emitter's failure callback was told.
    Oversized {
        /// Its size in bytes.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The tracker (or its emitter) was closed.
    Closed,
    /// The event store could not be read or written.
    Store(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidEvent(message) => write!(f, "invalid event: {message}"),
            Error::InvalidConfig(message) => write!(f, "invalid configuration: {message}"),
            Error::QueueFull { capacity } => {
                write!(f, "the event queue is full ({capacity} events)")
            }
            Error::Oversized { bytes, limit } => {
                write!(
                    f,
                    "the event takes {bytes} bytes, more than the {limit}-byte limit"
                )
            }
            Error::Closed => f.write_str("the tracker is closed"),
            Error::Store(error) => write!(f, "event store: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Error::Store(error)
    }
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

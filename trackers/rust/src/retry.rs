//! When to retry a failed request and how long to wait first.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which HTTP statuses are worth another attempt (2xx is success and never reaches it).
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum RetryRule {
    /// Snowplow's documented default: retry every status except 400, 401, 403, 410 and 422
    /// (<https://docs.snowplow.io/docs/sources/trackers/> "Emitter" / "Retrying failed requests").
    #[default]
    SnowplowDefault,
    /// Retry 5xx, 408 and 429 only; give up on every other status.
    ServerErrorsOnly,
    /// Your own rule: `true` means retry.
    Custom(Arc<dyn Fn(u16) -> bool + Send + Sync>),
}

impl RetryRule {
    /// Whether a request answered `status` (not 2xx) should be retried.
    pub fn should_retry(&self, status: u16) -> bool {
        #[cfg(feature = "mutants")]
        if crate::mutant::active("rust-retry-on-400") && status == 400 {
            return true;
        }
        match self {
            RetryRule::SnowplowDefault => !matches!(status, 400 | 401 | 403 | 410 | 422),
            RetryRule::ServerErrorsOnly => status >= 500 || status == 408 || status == 429,
            RetryRule::Custom(rule) => rule(status),
        }
    }
}

impl fmt::Debug for RetryRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryRule::SnowplowDefault => f.write_str("SnowplowDefault"),
            RetryRule::ServerErrorsOnly => f.write_str("ServerErrorsOnly"),
            RetryRule::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// How often and how patiently a request is retried.
///
/// The wait before attempt *n* + 1 is `initial_backoff × multiplier^(n−1)`, capped at
/// `max_backoff`; with jitter on it is drawn uniformly from the upper half of that
/// ("equal jitter"), so retries of many clients spread out but never come sooner than half the
/// schedule. A `Retry-After` answer (seconds or an HTTP date) replaces the computed wait, capped
/// at `max_retry_after`. The defaults are those of our `spec/delivery/rules.yaml` (the driver's
/// tests check them against the file).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (1: never retry). After the last, the events
    /// stay queued for the next send (a flush, a full batch or the next start with a store).
    pub max_attempts: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Growth of the wait per attempt (at least 1).
    pub multiplier: f64,
    /// Randomise waits (equal jitter).
    pub jitter: bool,
    /// Wait as long as a `Retry-After` header asks.
    pub honour_retry_after: bool,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
    /// Which statuses are retried.
    pub rule: RetryRule,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_millis(30_000),
            multiplier: 2.0,
            jitter: true,
            honour_retry_after: true,
            max_retry_after: Duration::from_secs(300),
            rule: RetryRule::SnowplowDefault,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait after failed attempt `attempt` (1-based), before jitter, with `Retry-After`.
    pub(crate) fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        random: impl FnOnce() -> f64,
    ) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let mut ms = self.initial_backoff.as_millis() as f64 * self.multiplier.max(1.0).powi(exponent);
        let cap = self.max_backoff.as_millis() as f64;
        #[cfg(feature = "mutants")]
        let cap = if crate::mutant::active("rust-backoff-uncapped") {
            f64::INFINITY
        } else {
            cap
        };
        ms = ms.min(cap);
        if self.jitter {
            ms = ms / 2.0 + ms / 2.0 * random();
        }
        let mut delay = Duration::from_millis(ms as u64);
        #[cfg(feature = "mutants")]
        let honour = self.honour_retry_after && !crate::mutant::active("rust-retry-after-ignored");
        #[cfg(not(feature = "mutants"))]
        let honour = self.honour_retry_after;
        if let (true, Some(asked)) = (honour, retry_after) {
            delay = asked.min(self.max_retry_after);
        }
        delay
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3), relative to
/// `now`. A date in the past means no wait.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = parse_http_date(value)?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
/// and asctime (`Sun Nov  6 08:49:37 1994`), as RFC 9110 §5.6.7 asks recipients to accept.
pub(crate) fn parse_http_date(value: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = |m: &str| MONTHS.iter().position(|&n| n == m).map(|i| i as u32 + 1);
    let words: Vec<&str> = value.split_whitespace().collect();
    let (year, mon, day, time) = match words.as_slice() {
        [_, d, m, y, t, "GMT"] => (y.parse::<i64>().ok()?, month(m)?, d.parse::<u32>().ok()?, *t),
        [_, dmy, t, "GMT"] => {
            let mut parts = dmy.split('-');
            let d = parts.next()?.parse::<u32>().ok()?;
            let m = month(parts.next()?)?;
            let y = parts.next()?.parse::<i64>().ok()?;
            (
                if y < 70 {
                    2000 + y
                } else if y < 100 {
                    1900 + y
                } else {
                    y
                },
                m,
                d,
                *t,
            )
        }
        [_, m, d, t, y] => (y.parse::<i64>().ok()?, month(m)?, d.parse::<u32>().ok()?, *t),
        _ => return None,
    };
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse::<u64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [h, mi, s] = hms.as_slice() else { return None };
    if !(1..=31).contains(&day) || *h > 23 || *mi > 59 || *s > 60 {
        return None;
    }
    let days = days_from_civil(year, mon, day);
    let secs = days.checked_mul(86_400)? + (*h * 3600 + *mi * 60 + *s) as i64;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(initial: u64, max: u64) -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_millis(initial),
            max_backoff: Duration::from_millis(max),
            jitter: false,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn backoff_grows_by_the_multiplier_and_stops_at_the_cap() {
        let p = exact(200, 1000);
        let waits: Vec<u128> = (1..=5).map(|n| p.delay(n, None, || 0.0).as_millis()).collect();
        assert_eq!(waits, [200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn backoff_is_in_milliseconds_even_for_huge_attempt_numbers() {
        let p = exact(100, 600_000);
        assert_eq!(p.delay(1_000, None, || 0.0), Duration::from_millis(600_000));
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let p = RetryPolicy {
            jitter: true,
            ..exact(1000, 1000)
        };
        assert_eq!(p.delay(1, None, || 0.0), Duration::from_millis(500));
        assert_eq!(p.delay(1, None, || 0.999_999), Duration::from_millis(999));
    }

    #[test]
    fn retry_after_replaces_the_wait_and_is_capped() {
        let p = exact(20, 100);
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3)), || 0.0),
            Duration::from_secs(3)
        );
        assert_eq!(p.delay(1, Some(Duration::ZERO), || 0.0), Duration::ZERO);
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600)), || 0.0),
            Duration::from_secs(300)
        );
        let ignoring = RetryPolicy {
            honour_retry_after: false,
            ..p
        };
        assert_eq!(
            ignoring.delay(1, Some(Duration::from_secs(3)), || 0.0),
            Duration::from_millis(20)
        );
    }

    #[test]
    fn snowplow_default_rule_gives_up_only_on_its_five_statuses() {
        let rule = RetryRule::SnowplowDefault;
        for status in [400, 401, 403, 410, 422] {
            assert!(!rule.should_retry(status), "{status}");
        }
        for status in [404, 408, 413, 429, 500, 502, 503, 504] {
            assert!(rule.should_retry(status), "{status}");
        }
    }

    #[test]
    fn server_errors_only_rule() {
        let rule = RetryRule::ServerErrorsOnly;
        assert!(rule.should_retry(500) && rule.should_retry(408) && rule.should_retry(429));
        assert!(!rule.should_retry(404) && !rule.should_retry(413) && !rule.should_retry(400));
    }

    #[test]
    fn http_dates_in_all_three_formats() {
        let expected = UNIX_EPOCH + Duration::from_secs(784_111_777);
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), Some(expected), "{text}");
        }
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn retry_after_seconds_and_dates_relative_to_now() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

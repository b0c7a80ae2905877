//! PostgreSQL's binary COPY format for the values the entity tables hold, and strict parsers
//! for the text forms that have an exact binary equivalent. A text form outside these
//! canonical shapes returns None: the line is then deferred to the text path, where
//! PostgreSQL's own (much more liberal) input functions judge it.

/// Days between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0i64, |n, b| n * 10 + i64::from(b - b'0')))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// `YYYY-MM-DD` (year 1..=9999) as days since 2000-01-01.
pub fn date(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if y == 0 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    i32::try_from(days_from_civil(y, m, d) - PG_EPOCH_DAYS).ok()
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}][Z]` as microseconds since 2000-01-01 (a trailing `Z` is
/// ignored, as PostgreSQL ignores zones for `timestamp without time zone`).
pub fn timestamp(text: &str) -> Option<i64> {
    let b = text.strip_suffix('Z').unwrap_or(text).as_bytes();
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days = i64::from(date(std::str::from_utf8(&b[..10]).ok()?)?);
    let (h, mi, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut micros = 0i64;
    if b.len() > 19 {
        let fraction = &b[20..];
        if b[19] != b'.' || fraction.len() > 6 {
            return None;
        }
        micros = digits(fraction)? * 10i64.pow(6 - fraction.len() as u32);
    }
    Some(((days * 24 + h) * 60 + mi) * 60_000_000 + s * 1_000_000 + micros)
}

/// A UUID in its canonical 8-4-4-4-12 hex form (either case) as its 16 bytes.
pub fn uuid(text: &str) -> Option<[u8; 16]> {
    let b = text.as_bytes();
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut out = [0u8; 16];
    let mut hex = b.iter().filter(|c| **c != b'-');
    for byte in &mut out {
        let hi = (*hex.next()? as char).to_digit(16)?;
        let lo = (*hex.next()? as char).to_digit(16)?;
        *byte = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// One field: its length (i32, big-endian) then its bytes.
pub fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

pub const NULL_FIELD: [u8; 4] = (-1i32).to_be_bytes();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_count_from_2000() {
        assert_eq!(timestamp("2000-01-01 00:00:00"), Some(0));
        assert_eq!(timestamp("2000-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(timestamp("1999-12-31 23:59:59.999999"), Some(-1));
        assert_eq!(
            timestamp("2026-11-27 10:00:00.000"),
            Some(849_088_800_000_000)
        );
        assert_eq!(timestamp("2024-02-29 00:00:00"), Some(762_480_000_000_000));
    }

    #[test]
    fn non_canonical_timestamps_are_refused() {
        for text in [
            "2026-11-27",
            "2026-11-27 10:00",
            "2026-02-30 00:00:00",
            "2026-11-27 24:00:00",
            "2026-11-27 10:00:60",
            "2026-11-27 10:00:00.1234567",
            "2026-11-27 10:00:00+02:00",
            "2026-11-27 10:00:00.",
            "0000-01-01 00:00:00",
            "2026-11-27X10:00:00",
            "infinity",
        ] {
            assert_eq!(timestamp(text), None, "{text}");
        }
    }

    #[test]
    fn dates_and_uuids() {
        assert_eq!(date("2000-01-02"), Some(1));
        assert_eq!(date("1999-12-31"), Some(-1));
        assert_eq!(date("2023-02-29"), None);
        let u = uuid("6E4fa6f2-0000-4000-8000-00000000000a").unwrap();
        assert_eq!(u[0], 0x6e);
        assert_eq!(u[15], 0x0a);
        assert_eq!(uuid("6e4fa6f2000040008000000000000000"), None);
        assert_eq!(uuid("{6e4fa6f2-0000-4000-8000-000000000000}"), None);
        assert_eq!(uuid("6e4fa6f2-0000-4000-8000-00000000000g"), None);
    }
}

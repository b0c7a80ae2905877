//! JSON read and written exactly as the Python reference does (orjson/json.loads, then
//! `json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)`), or not at all.

use serde_json::Value;
use std::fmt::Write;

/// Parse a JSON document, or None where Python might read it differently: bad JSON (Python
/// may still accept NaN, 1e400, lone surrogates), and any run of 19+ digits (Python reads
/// integers of any size exactly; serde_json turns those over 64 bits into floats).
pub fn parse(text: &str) -> Option<Value> {
    if needs_reference(text) {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// Numbers Python reads differently from serde_json, or a superset of them: any run of 19+
/// ASCII digits (Python reads integers past 64 bits exactly) and a `-0` value with no
/// fraction or exponent after `:`, `,` or `[` (Python's integer 0, serde_json's float -0.0).
/// Both are rare, so the scan looks for cheap signs first: `-0` with SIMD, and 8-byte words
/// made only of digits (any 19-digit run contains one at a multiple of 8).
pub fn needs_reference(text: &str) -> bool {
    let bytes = text.as_bytes();
    for i in memchr::memmem::find_iter(bytes, b"-0") {
        if matches!(bytes.get(i + 2), Some(b'.' | b'e' | b'E' | b'0'..=b'9')) {
            continue;
        }
        let before = bytes[..i]
            .iter()
            .rev()
            .find(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'));
        if matches!(before, Some(b':' | b',' | b'[')) {
            return true;
        }
    }
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        if all_digits(word) {
            let left = bytes[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let right = bytes[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if left + right >= 19 {
                return true;
            }
        }
        i += 8;
    }
    false
}

/// Whether all 8 bytes of a word are ASCII digits (0x30..=0x39), without a loop.
fn all_digits(word: u64) -> bool {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    const SIXES: u64 = 0x0606_0606_0606_0606;
    // High nibble 3, and adding 6 to a low nibble above 9 would carry into it.
    word & HIGH == THREES && (word + SIXES) & HIGH == THREES
}

/// Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents -4..16,
/// else `d.ddde+XX`.
pub fn write_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("nan");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f < 0.0 { "-inf" } else { "inf" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let sci = format!("{f:e}"); // shortest round-trip digits, e.g. "-1.2345e-5"
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("LowerExp always has an exponent");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let point = exp as usize + 1;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat('0').take(point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat('0').take((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
}

/// A JSON string as Python's encoder writes it with ensure_ascii=False.
pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escaped {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A value as Python's compact encoder writes it; false where the output could differ
/// (a float with an integer value past 2^63 may have been an integer literal: not here,
/// as `parse` refuses those, but kept as a guard).
pub fn write(value: &Value, out: &mut String) -> bool {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if !f.is_finite() {
                    return false;
                }
                write_float(f, out);
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write(item, out) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                if !write(v, out) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(f: f64) -> String {
        let mut s = String::new();
        write_float(f, &mut s);
        s
    }

    #[test]
    fn floats_match_python_repr() {
        assert_eq!(repr(1.0), "1.0");
        assert_eq!(repr(0.1), "0.1");
        assert_eq!(repr(-2.5), "-2.5");
        assert_eq!(repr(1e16), "1e+16");
        assert_eq!(repr(1e15), "1000000000000000.0");
        assert_eq!(repr(0.0001), "0.0001");
        assert_eq!(repr(0.00001), "1e-05");
        assert_eq!(repr(1.5e-7), "1.5e-07");
        assert_eq!(repr(123456789012345680.0), "1.2345678901234568e+17");
        assert_eq!(repr(-0.0), "-0.0");
        assert_eq!(repr(1e300), "1e+300");
    }

    #[test]
    fn strings_escape_like_python() {
        let mut s = String::new();
        write_str("a\"b\\c\n\u{1}é\u{7f}", &mut s);
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001é\u{7f}\"");
    }

    #[test]
    fn negative_zero_integers_defer() {
        assert!(parse("[-0]").is_none());
        assert!(parse("{\"a\": -0}").is_none());
        assert!(parse("[-0.0, -0e1, -1, \"x-0\", \"6e4f-0000\"]").is_some());
    }

    #[test]
    fn digit_runs_are_found_wherever_they_start() {
        for pad in 0..9 {
            for len in 17..22 {
                let text = format!("{}[{}]", " ".repeat(pad), "7".repeat(len));
                assert_eq!(needs_reference(&text), len >= 19, "pad {pad} len {len}");
            }
        }
    }

    #[test]
    fn long_digit_runs_defer() {
        assert!(parse("{\"a\":1234567890123456789}").is_none());
        assert!(parse("{\"a\":123456789012345678}").is_some());
    }
}

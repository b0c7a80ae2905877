//! One wire event: an ordered list of tracker-protocol parameters, all values strings.

use crate::encode;
use serde_json::{Map, Value};

/// The parameters of one event as the collector receives them (`e`, `eid`, `dtm`, ...).
///
/// Keys keep the order they were added in; a key added twice keeps its last value. `stm` is not
/// part of it: the emitter stamps it on each attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    fields: Vec<(String, String)>,
}

impl Payload {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key.to_owned(), value)),
        }
    }

    /// Sets `key` when `value` is `Some`.
    pub fn set_opt(&mut self, key: &str, value: Option<impl Into<String>>) {
        if let Some(value) = value {
            self.set(key, value);
        }
    }

    /// Removes `key`, if present.
    pub fn remove(&mut self, key: &str) {
        self.fields.retain(|(k, _)| k != key);
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every `(key, value)` pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets a JSON parameter: base64url in `encoded_key` when `base64`, else JSON text in
    /// `plain_key` (`cx`/`co`, `ue_px`/`ue_pr`).
    pub(crate) fn set_json(&mut self, base64: bool, plain_key: &str, encoded_key: &str, json: &Value) {
        let text = json.to_string();
        if base64 {
            self.set(encoded_key, encode::base64url(text.as_bytes()));
        } else {
            self.set(plain_key, text);
        }
    }

    /// The payload as a JSON object of strings (one item of a POST's `payload_data`).
    pub fn to_json(&self) -> Value {
        let mut map = Map::with_capacity(self.fields.len());
        for (k, v) in &self.fields {
            map.insert(k.clone(), Value::String(v.clone()));
        }
        Value::Object(map)
    }

    /// Rebuilds a payload from a JSON object of strings (as [`Payload::to_json`] writes it).
    pub fn from_json(value: &Value) -> Option<Self> {
        let object = value.as_object()?;
        let mut payload = Payload::new();
        for (k, v) in object {
            payload.fields.push((k.clone(), v.as_str()?.to_owned()));
        }
        Some(payload)
    }

    /// The payload as a percent-encoded querystring (a GET request's).
    pub fn to_query(&self) -> String {
        let mut out = String::with_capacity(self.fields.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            encode::percent_encode_into(&mut out, k);
            out.push('=');
            encode::percent_encode_into(&mut out, v);
        }
        out
    }

    /// The payload as compact JSON text (`{"e":"pv",...}`), written straight from the pairs.
    pub fn to_json_text(&self) -> String {
        let mut out = String::with_capacity(
            2 + self
                .fields
                .iter()
                .map(|(k, v)| k.len() + v.len() + 6)
                .sum::<usize>(),
        );
        out.push('{');
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&mut out, k);
            out.push(':');
            json_string(&mut out, v);
        }
        out.push('}');
        out
    }

    /// Bytes this payload takes inside a POST body's `data` array, `stm` and a comma included.
    #[cfg(test)]
    pub(crate) fn post_size(&self) -> usize {
        self.to_json_text().len() + STM_FIELD_BYTES + 1
    }
}

/// Appends `value` as a JSON string (RFC 8259 §7 escapes; other characters as UTF-8).
fn json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a JSON object item with `,"stm":"<stm>"` added before its closing brace.
pub(crate) fn push_with_stm(out: &mut String, json: &str, stm: Option<&str>) {
    match stm {
        Some(stm) if json.len() > 2 => {
            out.push_str(&json[..json.len() - 1]);
            out.push_str(",\"stm\":\"");
            out.push_str(stm);
            out.push_str("\"}");
        }
        Some(stm) => {
            out.push_str("{\"stm\":\"");
            out.push_str(stm);
            out.push_str("\"}");
        }
        None => out.push_str(json),
    }
}

/// Bytes `,"stm":"1665398554084"` adds to an item (13-digit milliseconds until the year 2286).
pub(crate) const STM_FIELD_BYTES: usize = 22;
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_keeps_order() {
        let mut p = Payload::new();
        p.set("e", "pv");
        p.set("url", "a");
        p.set("e", "se");
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![("e", "se"), ("url", "a")]);
    }

    #[test]
    fn query_is_percent_encoded() {
        let mut p = Payload::new();
        p.set("url", "https://a.example/?q=1&r=2");
        p.set("page", "Café");
        assert_eq!(
            p.to_query(),
            "url=https%3A%2F%2Fa.example%2F%3Fq%3D1%26r%3D2&page=Caf%C3%A9"
        );
    }

    #[test]
    fn json_round_trip() {
        let mut p = Payload::new();
        p.set("e", "pv");
        p.set("page", "\"quoted\"");
        assert_eq!(Payload::from_json(&p.to_json()), Some(p));
    }

    #[test]
    fn json_text_is_valid_json_with_escapes() {
        let mut p = Payload::new();
        p.set("page", "a\"b\\c\nd\u{1}é🚀");
        let text = p.to_json_text();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), p.to_json());
        let mut out = String::new();
        push_with_stm(&mut out, &text, Some("1665398554084"));
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["stm"],
            "1665398554084"
        );
        assert_eq!(out.len(), text.len() + STM_FIELD_BYTES);
    }

    #[test]
    fn post_size_counts_the_stm_field() {
        let mut p = Payload::new();
        p.set("e", "pv");
        let with_stm = r#"{"e":"pv","stm":"1665398554084"}"#.len();
        assert_eq!(p.post_size(), with_stm + 1);
    }
}

//! One batch of enriched TSV lines to COPY texts, mirroring plowline.storage.postgres.

use crate::entities::{read_field, Emitter, Trie};
use rustc_hash::{FxHashMap, FxHashSet};

const FIELD_COUNT: usize = 131;
const COLLECTOR_TSTAMP: usize = 3;
const EVENT_ID: usize = 6;
const CONTEXTS: usize = 52;
const UNSTRUCT_EVENT: usize = 58;
const DERIVED_CONTEXTS: usize = 122;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Varchar,
    Integer,
    Bigint,
    Double,
    Boolean,
    Timestamp,
    Date,
    Uuid,
    Json,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "text" => Kind::Text,
            "varchar" => Kind::Varchar,
            "integer" => Kind::Integer,
            "bigint" => Kind::Bigint,
            "double" => Kind::Double,
            "boolean" => Kind::Boolean,
            "timestamp" => Kind::Timestamp,
            "date" => Kind::Date,
            "uuid" => Kind::Uuid,
            "json" => Kind::Json,
            _ => return None,
        })
    }
}

pub struct Column {
    pub path: Vec<String>,
    pub kind: Kind,
    pub length: Option<usize>,
    pub nullable: bool,
}

/// head + root (root_id, root_tstamp) + tail + the columns make a row, as COPY text or, in
/// binary mode, as a binary tuple (head then starts with the field count).
pub struct Plan {
    pub table: usize,
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
    pub columns: Vec<Column>,
    pub trie: Trie,
}

pub struct Plans {
    pub jsonb: bool,
    pub binary: bool,
    pub tables: Vec<String>,
    /// None: a URI the reference must handle (no schema, a part too long...).
    pub by_uri: FxHashMap<String, Option<Plan>>,
}

pub struct Output {
    pub atomic: Vec<u8>,
    pub tables: Vec<Vec<u8>>,
    pub deferred: Vec<usize>,
    pub unknown: Vec<String>,
}

/// COPY text escaping (`\`, newline, carriage return, tab), appended to `out`.
pub fn escape_bytes(s: &str, out: &mut Vec<u8>) {
    escape(s.as_bytes(), out, false);
}

/// COPY text escaping of `bytes` into `out`: backslashes and carriage returns always, and
/// newlines and tabs unless `fields` (a run of whole fields, whose tabs separate them).
fn escape(bytes: &[u8], out: &mut Vec<u8>, fields: bool) {
    let special = |b: &u8| match b {
        b'\\' | b'\r' => true,
        b'\n' | b'\t' => !fields,
        _ => false,
    };
    if !bytes.iter().any(special) {
        out.extend_from_slice(bytes);
        return;
    }
    for b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' if !fields => out.extend_from_slice(b"\\n"),
            b'\t' if !fields => out.extend_from_slice(b"\\t"),
            _ => out.push(*b),
        }
    }
}

/// Entity rows of one line into `em.row`; false when the line goes to the reference (then
/// `em.unknown` lists the URIs without a plan, if that was the reason).
fn entity_rows(em: &mut Emitter<'_>, fields: &[&str]) -> bool {
    em.start_line(fields[EVENT_ID], fields[COLLECTOR_TSTAMP]);
    for (idx, array) in [
        (CONTEXTS, true),
        (DERIVED_CONTEXTS, true),
        (UNSTRUCT_EVENT, false),
    ] {
        let text = fields[idx];
        if !text.is_empty() && read_field(em, text, array).is_none() {
            em.unknown.clear(); // deferred for another reason: its URIs may be half read
            return false;
        }
    }
    em.unknown.is_empty()
}

/// atomic.events COPY text of one line: every field but the three JSON ones, with `\` and
/// carriage returns escaped (tabs separate fields; a newline has deferred the line). Copied
/// as the four runs of fields between the JSON ones, not field by field.
fn atomic_row(line: &str, fields: &[&str], out: &mut Vec<u8>) {
    let base = line.as_ptr() as usize;
    let offset = |f: &str| f.as_ptr() as usize - base;
    let mut start = 0;
    for skip in [CONTEXTS, UNSTRUCT_EVENT, DERIVED_CONTEXTS] {
        let field = offset(fields[skip]);
        escape(&line.as_bytes()[start..field], out, true); // ends with the tab before it
        start = field + fields[skip].len() + 1; // past the tab after it
    }
    escape(&line.as_bytes()[start..], out, true);
    out.push(b'\n');
}

pub fn batch(lines: &[&[u8]], plans: &Plans) -> Output {
    let mut out = Output {
        atomic: Vec::with_capacity(lines.iter().map(|l| l.len()).sum()),
        tables: vec![Vec::new(); plans.tables.len()],
        deferred: Vec::new(),
        unknown: Vec::new(),
    };
    let mut seen: FxHashSet<String> = FxHashSet::default();
    let mut em = Emitter::new(plans);
    let mut fields: Vec<&str> = Vec::with_capacity(FIELD_COUNT);
    for (index, raw) in lines.iter().enumerate() {
        fields.clear();
        let text = match std::str::from_utf8(raw) {
            Ok(t) if memchr::memchr(b'\n', raw).is_none() => t,
            _ => {
                out.deferred.push(index);
                continue;
            }
        };
        // memchr's SIMD search beats str::split on 1-2 KB lines of 131 fields.
        let mut start = 0;
        for tab in memchr::memchr_iter(b'\t', raw) {
            if fields.len() == FIELD_COUNT {
                break; // too many fields: deferred below
            }
            fields.push(&text[start..tab]);
            start = tab + 1;
        }
        fields.push(&text[start..]);
        if fields.len() != FIELD_COUNT {
            out.deferred.push(index);
            continue;
        }
        if entity_rows(&mut em, &fields) {
            let mut start = 0;
            for &(table, end) in &em.pending {
                out.tables[table].extend_from_slice(&em.row[start..end]);
                start = end;
            }
            atomic_row(text, &fields, &mut out.atomic);
        } else {
            out.deferred.push(index);
            for uri in em.unknown.drain(..) {
                if seen.insert(uri.clone()) {
                    out.unknown.push(uri);
                }
            }
        }
    }
    out
}

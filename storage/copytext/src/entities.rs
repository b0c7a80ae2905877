//! Entities streamed out of the three JSON fields straight into COPY rows: no JSON tree is
//! built for the usual entity, only the values its table's columns ask for are decoded.
//!
//! Mirrors `plowline.storage.schemas.entities_of` and the loader's row functions. Every
//! situation where the reference reports a problem, or where this code could write different
//! bytes, is an error here: the caller then defers the whole line to the reference.

use crate::pgbin;
use crate::pyjson;
use crate::rows::{escape_bytes, Column, Kind, Plan, Plans};
use rustc_hash::FxHashMap;
use serde::de::{
    self, value::MapAccessDeserializer, value::SeqAccessDeserializer, DeserializeSeed,
    Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::io::Write;

/// Columns by property path: `{"a": {"b": ..}}` reaches column `a.b` through `Inner`.
#[derive(Default)]
pub struct Trie {
    keys: FxHashMap<String, Slot>,
    below: Vec<usize>, // every column under this node (reset when a duplicate key replaces it)
}

enum Slot {
    Leaf(usize),
    Inner(Trie),
}

impl Trie {
    /// None when two paths conflict (one ends where another goes deeper).
    pub fn build(columns: &[Column]) -> Option<Trie> {
        let mut root = Trie::default();
        for (i, c) in columns.iter().enumerate() {
            let mut node = &mut root;
            node.below.push(i);
            let (last, inner) = c.path.split_last()?;
            for key in inner {
                let slot = node
                    .keys
                    .entry(key.clone())
                    .or_insert_with(|| Slot::Inner(Trie::default()));
                node = match slot {
                    Slot::Inner(t) => t,
                    Slot::Leaf(_) => return None,
                };
                node.below.push(i);
            }
            if node.keys.insert(last.clone(), Slot::Leaf(i)).is_some() {
                return None;
            }
        }
        Some(root)
    }
}

/// Decoded column values of the entity being read (reused from entity to entity).
#[derive(Default)]
struct Cells {
    text: Vec<Vec<u8>>, // COPY text, or the binary field's bytes (without its length)
    set: Vec<bool>,
}

impl Cells {
    fn reset(&mut self, n: usize) {
        if self.text.len() < n {
            self.text.resize_with(n, Vec::new);
            self.set.resize(n, false);
        }
        self.set[..n].fill(false);
    }
}

/// Where rows go while one line is read.
pub struct Emitter<'p> {
    pub plans: &'p Plans,
    /// root_id and root_tstamp as the row wants them (text, or two binary fields); None in
    /// binary mode when they have no exact binary form (entities then defer the line).
    root: Option<Vec<u8>>,
    pub row: Vec<u8>,
    pub pending: Vec<(usize, usize)>,
    pub unknown: Vec<String>,
    cells: Cells,
}

fn defer<E: de::Error>() -> E {
    E::custom("deferred")
}

impl<'p> Emitter<'p> {
    pub fn new(plans: &'p Plans) -> Self {
        Emitter {
            plans,
            root: None,
            row: Vec::new(),
            pending: Vec::new(),
            unknown: Vec::new(),
            cells: Cells::default(),
        }
    }

    pub fn start_line(&mut self, event_id: &str, collector_tstamp: &str) {
        self.row.clear();
        self.pending.clear();
        self.unknown.clear();
        let mut root = self.root.take().unwrap_or_default();
        root.clear();
        if self.plans.binary {
            match (pgbin::uuid(event_id), pgbin::timestamp(collector_tstamp)) {
                (Some(id), Some(tstamp)) => {
                    pgbin::field(&mut root, &id);
                    pgbin::field(&mut root, &tstamp.to_be_bytes());
                    self.root = Some(root);
                }
                _ => self.root = None,
            }
        } else {
            escape_bytes(event_id, &mut root);
            root.push(b'\t');
            escape_bytes(collector_tstamp, &mut root);
            self.root = Some(root);
        }
    }

    /// The plan for a URI; Ok(None) for an unknown URI (recorded; its data is skipped).
    fn plan<E: de::Error>(&mut self, uri: &str) -> Result<Option<&'p Plan>, E> {
        match self.plans.by_uri.get(uri) {
            None => {
                self.unknown.push(uri.to_owned());
                Ok(None)
            }
            Some(None) => Err(defer()),
            Some(Some(plan)) => Ok(Some(plan)),
        }
    }

    /// One entity whose data the deserializer `data` holds.
    fn entity<'de, D: Deserializer<'de>>(&mut self, uri: &str, data: D) -> Result<(), D::Error> {
        let Some(plan) = self.plan(uri)? else {
            IgnoredAny::deserialize(data)?;
            return Ok(());
        };
        if !self.unknown.is_empty() {
            IgnoredAny::deserialize(data)?; // the line is deferred; only URIs matter now
            return Ok(());
        }
        if self.plans.jsonb {
            let value = Value::deserialize(data)?;
            return self.jsonb_row(plan, &value).ok_or_else(defer);
        }
        self.cells.reset(plan.columns.len());
        let binary = self.plans.binary;
        data.deserialize_any(Fill {
            trie: &plan.trie,
            columns: &plan.columns,
            cells: &mut self.cells,
            root: true,
            binary,
        })?;
        self.columns_row(plan).ok_or_else(defer)
    }

    /// An entity without a `data` key: the reference reads None.
    fn entity_without_data<E: de::Error>(&mut self, uri: &str) -> Result<(), E> {
        let Some(plan) = self.plan(uri)? else {
            return Ok(());
        };
        if !self.unknown.is_empty() {
            return Ok(());
        }
        if !self.plans.jsonb {
            return Err(defer()); // "data is not an object"
        }
        self.jsonb_row(plan, &Value::Null).ok_or_else(defer)
    }

    fn start_row(&mut self, plan: &Plan) -> Option<()> {
        let root = self.root.as_ref()?;
        self.row.extend_from_slice(&plan.head);
        self.row.extend_from_slice(root);
        self.row.extend_from_slice(&plan.tail);
        Some(())
    }

    fn end_row(&mut self, plan: &Plan) {
        if !self.plans.binary {
            self.row.push(b'\n');
        }
        self.pending.push((plan.table, self.row.len()));
    }

    fn jsonb_row(&mut self, plan: &Plan, value: &Value) -> Option<()> {
        let mut body = String::new();
        if !pyjson::write(value, &mut body) {
            return None;
        }
        self.start_row(plan)?;
        if self.plans.binary {
            self.row
                .extend_from_slice(&(body.len() as i32 + 1).to_be_bytes());
            self.row.push(1); // jsonb's binary format: version 1, then the text
            self.row.extend_from_slice(body.as_bytes());
        } else {
            self.row.push(b'\t');
            escape_bytes(&body, &mut self.row);
        }
        self.end_row(plan);
        Some(())
    }

    fn columns_row(&mut self, plan: &Plan) -> Option<()> {
        self.start_row(plan)?;
        let binary = self.plans.binary;
        for (i, c) in plan.columns.iter().enumerate() {
            if self.cells.set[i] {
                if binary {
                    pgbin::field(&mut self.row, &self.cells.text[i]);
                } else {
                    self.row.push(b'\t');
                    self.row.extend_from_slice(&self.cells.text[i]);
                }
            } else if !c.nullable {
                return None; // required value missing
            } else if binary {
                self.row.extend_from_slice(&pgbin::NULL_FIELD);
            } else {
                self.row.extend_from_slice(b"\t\\N");
            }
        }
        self.end_row(plan);
        Some(())
    }
}

/// Read one contexts-like field (`{"data": [items]}`) or unstruct_event (`{"data": item}`).
pub fn read_field(em: &mut Emitter<'_>, text: &str, array: bool) -> Option<()> {
    if pyjson::needs_reference(text) {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Doc { em, array }).ok()?;
    de.end().ok()
}

/// The keys the reader cares about, recognised without allocating.
#[derive(PartialEq, Eq)]
enum Name {
    Schema,
    Data,
    Other,
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        d.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Name, E> {
        Ok(match v {
            "schema" => Name::Schema,
            "data" => Name::Data,
            _ => Name::Other,
        })
    }
}

/// A JSON string, borrowed from the input unless it had escapes (serde's Cow always copies).
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text<'de>, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
}

struct Doc<'e, 'p> {
    em: &'e mut Emitter<'p>,
    array: bool,
}

impl<'de> Visitor<'de> for Doc<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a self-describing JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<Name>()? {
            if key != Name::Data {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if seen {
                return Err(defer()); // duplicate "data": the reference reads the last one
            }
            seen = true;
            if self.array {
                map.next_value_seed(Items { em: &mut *self.em })?;
            } else {
                map.next_value_seed(Item { em: &mut *self.em })?;
            }
        }
        if seen {
            Ok(())
        } else {
            Err(defer())
        }
    }
}

struct Items<'e, 'p> {
    em: &'e mut Emitter<'p>,
}

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of entities")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Item { em: &mut *self.em })?.is_some() {}
        Ok(())
    }
}

struct Item<'e, 'p> {
    em: &'e mut Emitter<'p>,
}

impl<'de> DeserializeSeed<'de> for Item<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Item<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an entity object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut schema: Option<Cow<'de, str>> = None;
        let mut later: Option<&'de RawValue> = None; // data before its schema
        let mut data_seen = false;
        while let Some(key) = map.next_key::<Name>()? {
            match key {
                Name::Schema => {
                    if schema.is_some() {
                        return Err(defer());
                    }
                    schema = Some(map.next_value::<Text<'de>>()?.0);
                }
                Name::Data => {
                    if data_seen {
                        return Err(defer());
                    }
                    data_seen = true;
                    match &schema {
                        Some(uri) => map.next_value_seed(EntityData {
                            em: &mut *self.em,
                            uri,
                        })?,
                        None => later = Some(map.next_value::<&'de RawValue>()?),
                    }
                }
                Name::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let uri = schema.ok_or_else(defer)?;
        match later {
            Some(raw) => {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                self.em.entity(&uri, &mut de).map_err(|_| defer())
            }
            None if !data_seen => self.em.entity_without_data(&uri),
            None => Ok(()),
        }
    }
}

struct EntityData<'e, 'p, 'u> {
    em: &'e mut Emitter<'p>,
    uri: &'u str,
}

impl<'de> DeserializeSeed<'de> for EntityData<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.em.entity(self.uri, d)
    }
}

/// Fills the cells of the columns under one trie node from an object (anything else: the
/// columns stay NULL, or for the entity's root the reference says "data is not an object").
struct Fill<'a> {
    trie: &'a Trie,
    columns: &'a [Column],
    cells: &'a mut Cells,
    root: bool,
    binary: bool,
}

impl<'de> DeserializeSeed<'de> for Fill<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

struct Key<'a> {
    trie: &'a Trie,
}

impl<'de, 'a> DeserializeSeed<'de> for Key<'a> {
    type Value = Option<&'a Slot>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'a> Visitor<'de> for Key<'a> {
    type Value = Option<&'a Slot>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.trie.keys.get(v))
    }
}

impl Fill<'_> {
    fn clear(&mut self) {
        for &i in &self.trie.below {
            self.cells.set[i] = false;
        }
    }
    fn other<E: de::Error>(mut self) -> Result<(), E> {
        if self.root {
            return Err(defer());
        }
        self.clear();
        Ok(())
    }
}

impl<'de> Visitor<'de> for Fill<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.clear(); // a duplicate key replaces the whole earlier object
        while let Some(slot) = map.next_key_seed(Key { trie: self.trie })? {
            match slot {
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some(Slot::Leaf(i)) => {
                    let out = &mut self.cells.text[*i];
                    out.clear();
                    let column = &self.columns[*i];
                    let set = map.next_value_seed(Cell {
                        column,
                        out,
                        binary: self.binary,
                    })?;
                    self.cells.set[*i] = set;
                }
                Some(Slot::Inner(trie)) => {
                    let inner = Fill {
                        trie,
                        columns: self.columns,
                        cells: &mut *self.cells,
                        root: false,
                        binary: self.binary,
                    };
                    map.next_value_seed(inner)?;
                }
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.other()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.other()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.other()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.other()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.other()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.other()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.other()
    }
}

/// One column value into `out`: COPY text, or in binary mode the field's bytes. Ok(false)
/// for JSON null. Errors where the reference raises EncodeError (or might write something
/// else, or the value has no exact binary form).
struct Cell<'a> {
    column: &'a Column,
    out: &'a mut Vec<u8>,
    binary: bool,
}

impl<'de> DeserializeSeed<'de> for Cell<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl Cell<'_> {
    fn is_textual(&self) -> bool {
        matches!(self.column.kind, Kind::Text | Kind::Varchar | Kind::Json)
    }
    /// A string value (already JSON when the column is JSON or the value was not a string),
    /// checked like the reference and written.
    fn text<E: de::Error>(self, text: &str) -> Result<bool, E> {
        if let (Kind::Varchar | Kind::Text, Some(limit)) = (self.column.kind, self.column.length) {
            if text.len() > limit && text.chars().count() > limit {
                return Err(defer());
            }
        }
        if memchr::memchr(0, text.as_bytes()).is_some() {
            return Err(defer());
        }
        if !self.binary {
            escape_bytes(text, self.out);
            return Ok(true);
        }
        match self.column.kind {
            Kind::Json => {
                self.out.push(1); // jsonb's binary format: version 1, then the text
                self.out.extend_from_slice(text.as_bytes());
            }
            Kind::Timestamp => {
                let micros = pgbin::timestamp(text).ok_or_else(defer)?;
                self.out.extend_from_slice(&micros.to_be_bytes());
            }
            Kind::Date => {
                let days = pgbin::date(text).ok_or_else(defer)?;
                self.out.extend_from_slice(&days.to_be_bytes());
            }
            Kind::Uuid => self
                .out
                .extend_from_slice(&pgbin::uuid(text).ok_or_else(defer)?),
            _ => self.out.extend_from_slice(text.as_bytes()),
        }
        Ok(true)
    }
    fn json<E: de::Error>(self, value: &Value) -> Result<bool, E> {
        let mut text = String::new();
        if !pyjson::write(value, &mut text) {
            return Err(defer());
        }
        self.text(&text)
    }
    /// A number written as the reference's repr (textual columns), or a double's 8 bytes.
    fn float<E: de::Error>(self, f: f64) -> Result<bool, E> {
        if !f.is_finite() {
            return Err(defer());
        }
        if self.binary && self.column.kind == Kind::Double {
            self.out.extend_from_slice(&f.to_be_bytes());
            return Ok(true);
        }
        let mut text = String::new();
        pyjson::write_float(f, &mut text);
        self.text(&text)
    }
    fn integer<E: de::Error>(self, v: i64) -> Result<bool, E> {
        match (self.column.kind, self.binary) {
            (Kind::Integer, _) if !(-(1i64 << 31)..(1i64 << 31)).contains(&v) => Err(defer()),
            (Kind::Integer, true) => {
                self.out.extend_from_slice(&(v as i32).to_be_bytes());
                Ok(true)
            }
            (Kind::Bigint, true) => {
                self.out.extend_from_slice(&v.to_be_bytes());
                Ok(true)
            }
            (Kind::Integer | Kind::Bigint, false) => {
                let _ = write!(self.out, "{v}");
                Ok(true)
            }
            (Kind::Double, _) => self.float(v as f64),
            _ if self.is_textual() => self.text(&v.to_string()),
            _ => Err(defer()),
        }
    }
}

impl<'de> Visitor<'de> for Cell<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a column value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match self.column.kind {
            Kind::Json => {
                let mut text = String::new();
                pyjson::write_str(v, &mut text);
                self.text(&text)
            }
            Kind::Text | Kind::Varchar | Kind::Timestamp | Kind::Date | Kind::Uuid => self.text(v),
            _ => Err(defer()),
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        match self.column.kind {
            Kind::Boolean if self.binary => {
                self.out.push(u8::from(v));
                Ok(true)
            }
            Kind::Boolean => {
                self.out.push(if v { b't' } else { b'f' });
                Ok(true)
            }
            _ if self.is_textual() => self.text(if v { "true" } else { "false" }),
            _ => Err(defer()),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.integer(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        match i64::try_from(v) {
            Ok(signed) => self.integer(signed),
            Err(_) if self.column.kind == Kind::Double => self.float(v as f64),
            Err(_) if self.is_textual() => self.text(&v.to_string()),
            Err(_) => Err(defer()),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        match self.column.kind {
            Kind::Double => self.float(v),
            _ if self.is_textual() => self.float(v),
            _ => Err(defer()), // an integer column given 3.0: the reference converts; defer
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        if !self.is_textual() {
            return Err(defer());
        }
        let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        self.json(&value)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        if !self.is_textual() {
            return Err(defer());
        }
        let value = Value::deserialize(MapAccessDeserializer::new(map))?;
        self.json(&value)
    }
}

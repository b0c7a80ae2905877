//! Enriched TSV batches to PostgreSQL COPY text: the hot loop of plowline-storage's loaders.
//!
//! The Python loader (`plowline.storage.postgres`) is the reference. This module takes a
//! batch of lines and, for every line it is certain about, writes exactly the bytes the
//! reference would write: the atomic.events row and one row per entity in its table's COPY
//! text. A line it is not certain about (bad UTF-8, wrong field count, JSON it cannot read
//! the way Python would, a value that does not fit its column, a schema without a plan) is
//! *deferred*: its index is returned and the reference handles it, bad rows included. So this
//! code never decides that a line is bad; it only makes the common line fast.

mod entities;
mod pgbin;
mod pyjson;
mod rows;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use rows::{Column, Kind, Plan};
use std::collections::HashMap;

/// Column plans per schema URI, frozen: the loader builds a new one when tables change, so a
/// batch encoded in a worker thread always sees one consistent layout.
#[pyclass(frozen, module = "plowline.copytext._native")]
struct Plans {
    inner: rows::Plans,
}

type ColumnSpec = (Vec<String>, String, Option<usize>, bool);
type MetaSpec = (String, String, String, String, String);
type PlanSpec = (
    String,
    String,
    String,
    String,
    Option<Vec<ColumnSpec>>,
    Option<MetaSpec>,
);

#[pymethods]
impl Plans {
    /// `specs`: (uri, table, head, tail, columns, meta) per schema URI, columns being (path,
    /// kind, length, nullable) in table order, or None for a URI whose events must be
    /// deferred; head and tail are the COPY text around root_id and root_tstamp. `binary`
    /// writes PostgreSQL's binary COPY tuples instead, which needs `meta`: the raw vendor,
    /// name, format, version and ref_tree.
    #[new]
    #[pyo3(signature = (jsonb, specs, binary = false))]
    fn new(jsonb: bool, specs: Vec<PlanSpec>, binary: bool) -> PyResult<Self> {
        let mut tables: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut by_uri = rustc_hash::FxHashMap::default();
        for (uri, table, head, tail, columns, meta) in specs {
            let plan = match columns {
                None => None,
                Some(cols) => {
                    let (head, tail) = if binary {
                        let meta = meta.ok_or_else(|| {
                            PyValueError::new_err(format!("binary plans need meta ({uri})"))
                        })?;
                        binary_head_tail(&meta, cols.len() + if jsonb { 1 } else { 0 })?
                    } else {
                        (head.into_bytes(), tail.into_bytes())
                    };
                    let slot = *index.entry(table.clone()).or_insert_with(|| {
                        tables.push(table.clone());
                        tables.len() - 1
                    });
                    let mut parsed = Vec::with_capacity(cols.len());
                    for (path, kind, length, nullable) in cols {
                        let kind = Kind::parse(&kind).ok_or_else(|| {
                            PyValueError::new_err(format!("unknown column kind {kind:?}"))
                        })?;
                        if path.is_empty() {
                            return Err(PyValueError::new_err("a column path is empty"));
                        }
                        parsed.push(Column {
                            path,
                            kind,
                            length,
                            nullable,
                        });
                    }
                    // Conflicting paths cannot come from derived columns; defer them if given.
                    entities::Trie::build(&parsed).map(|trie| Plan {
                        table: slot,
                        head,
                        tail,
                        columns: parsed,
                        trie,
                    })
                }
            };
            by_uri.insert(uri, plan);
        }
        Ok(Plans {
            inner: rows::Plans {
                jsonb,
                binary,
                tables,
                by_uri,
            },
        })
    }

    fn __len__(&self) -> usize {
        self.inner.by_uri.len()
    }
}

/// The constant parts of a binary tuple: field count and the four schema fields before
/// root_id/root_tstamp; ref_root, ref_tree and ref_parent after.
fn binary_head_tail(meta: &MetaSpec, columns: usize) -> PyResult<(Vec<u8>, Vec<u8>)> {
    let fields = i16::try_from(9 + columns)
        .map_err(|_| PyValueError::new_err("too many columns for one COPY tuple"))?;
    let (vendor, name, format, version, ref_tree) = meta;
    let mut head = fields.to_be_bytes().to_vec();
    for value in [vendor, name, format, version] {
        pgbin::field(&mut head, value.as_bytes());
    }
    let mut tail = Vec::new();
    for value in ["events", ref_tree.as_str(), "events"] {
        pgbin::field(&mut tail, value.as_bytes());
    }
    Ok((head, tail))
}

/// Encode a batch. Returns (atomic COPY text, {table: COPY text}, deferred line indexes,
/// unknown schema URIs). Lines with an unknown URI are deferred too. The GIL is released
/// while the batch is encoded.
#[pyfunction]
fn encode<'py>(
    py: Python<'py>,
    lines: &Bound<'py, PyList>,
    plans: &Bound<'py, Plans>,
) -> PyResult<(
    Bound<'py, PyBytes>,
    Bound<'py, PyDict>,
    Vec<usize>,
    Vec<String>,
)> {
    let owned: Vec<Bound<'py, PyBytes>> = lines
        .iter()
        .map(|item| item.downcast_into::<PyBytes>().map_err(PyErr::from))
        .collect::<PyResult<_>>()?;
    let slices: Vec<&[u8]> = owned.iter().map(|b| b.as_bytes()).collect();
    let plans = &plans.get().inner;
    let out = py.allow_threads(|| rows::batch(&slices, plans));
    let tables = PyDict::new(py);
    for (slot, text) in out.tables.iter().enumerate() {
        if !text.is_empty() {
            tables.set_item(&plans.tables[slot], PyBytes::new(py, text))?;
        }
    }
    Ok((
        PyBytes::new(py, &out.atomic),
        tables,
        out.deferred,
        out.unknown,
    ))
}

/// The batch id of `plowline.storage.prepare.batch_id`: SHA-256 over every line's 8-byte
/// big-endian length and bytes, as hex. Computed with the GIL released.
#[pyfunction]
fn batch_digest(py: Python<'_>, lines: &Bound<'_, PyList>) -> PyResult<String> {
    use sha2::{Digest, Sha256};
    let owned: Vec<Bound<'_, PyBytes>> = lines
        .iter()
        .map(|item| item.downcast_into::<PyBytes>().map_err(PyErr::from))
        .collect::<PyResult<_>>()?;
    let slices: Vec<&[u8]> = owned.iter().map(|b| b.as_bytes()).collect();
    Ok(py.allow_threads(|| {
        let mut digest = Sha256::new();
        for line in &slices {
            digest.update((line.len() as u64).to_be_bytes());
            digest.update(line);
        }
        digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }))
}

/// Python's repr() of a float (exposed for the tests).
#[pyfunction]
fn float_repr(value: f64) -> String {
    let mut s = String::new();
    pyjson::write_float(value, &mut s);
    s
}

/// Python's `json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)`, or
/// None where this module would defer (exposed for the tests).
#[pyfunction]
fn json_roundtrip(text: &str) -> Option<String> {
    let value = pyjson::parse(text)?;
    let mut s = String::new();
    pyjson::write(&value, &mut s).then_some(s)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Plans>()?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(batch_digest, m)?)?;
    m.add_function(wrap_pyfunction!(float_repr, m)?)?;
    m.add_function(wrap_pyfunction!(json_roundtrip, m)?)?;
    Ok(())
}

"""plowline.spec.vectors: the typed loader, the vector schema's strictness, file rules."""

from __future__ import annotations

import copy
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.spec import vectors
from plowline.spec.data import data_root
from plowline.spec.vectors import (
    InvalidRequestVector,
    RawRequestVector,
    TrackerCallVector,
    VectorError,
)


@pytest.fixture
def vectors_copy(tmp_path: Path) -> Path:
    shutil.copytree(data_root() / "vectors", tmp_path / "vectors")
    return tmp_path


def _doc(kind_dir: str, stem: str) -> dict[str, Any]:
    path = data_root() / "vectors" / kind_dir / f"{stem}.yaml"
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def test_at_least_seventy_vectors_and_twenty_per_kind() -> None:
    loaded = vectors.load_vectors()
    counts = Counter(v.kind for v in loaded)
    assert len(loaded) >= 70
    assert all(counts[k] >= 20 for k in ("tracker_call", "raw_request", "invalid_request"))


def test_kind_filter_and_order() -> None:
    tracker = vectors.load_vectors("tracker_call")
    assert tracker
    assert all(isinstance(v, TrackerCallVector) for v in tracker)
    assert [v.path.name for v in tracker] == sorted(v.path.name for v in tracker)
    assert all(isinstance(v, RawRequestVector) for v in vectors.load_vectors("raw_request"))
    bad = vectors.load_vectors("invalid_request")
    assert all(isinstance(v, InvalidRequestVector) for v in bad)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown vector kind"):
        vectors.load_vectors("webhook")  # type: ignore[arg-type]


def test_ids_are_unique_and_equal_file_stems() -> None:
    loaded = vectors.load_vectors()
    assert all(v.id == v.path.stem for v in loaded)
    assert len({v.id for v in loaded}) == len(loaded)


def test_tracker_call_fields() -> None:
    v = vectors.load_vector(data_root() / "vectors/tracker/tracker-subject-partial-get.yaml")
    assert isinstance(v, TrackerCallVector)
    assert v.tracker.namespace == "ns1"
    assert v.tracker.encode_base64 is False
    assert v.method == "GET"
    assert v.subject == {"user_id": "u-1", "screen_resolution": [1920, 1080]}
    assert len(v.event_ids) == 1
    (wire,) = v.expected
    assert wire.params["res"] == "1920x1080"
    assert wire.params["eid"] == v.event_ids[0]
    assert wire.present == ("tv", "stm")
    assert "ttm" in wire.absent


def test_ecommerce_vector_expects_one_wire_event_per_event_id() -> None:
    path = data_root() / "vectors/tracker/tracker-ecommerce-transaction-post.yaml"
    v = vectors.load_vector(path)
    assert isinstance(v, TrackerCallVector)
    assert len(v.event_ids) == len(v.expected) == 3
    assert [w.params["e"] for w in v.expected] == ["tr", "ti", "ti"]
    assert [w.params["eid"] for w in v.expected] == list(v.event_ids)


def test_raw_request_fields_and_default_layer() -> None:
    v = vectors.load_vector(data_root() / "vectors/enrich/enrich-tp2-post-page-view.yaml")
    assert isinstance(v, RawRequestVector)
    assert v.layer == "pipeline"
    assert v.request.method == "POST"
    assert v.request.collector_tstamp_ms == 1665398554500
    assert v.expected_events[0]["collector_tstamp"] == "2022-10-10 10:42:34.500"
    assert v.expected_events[0]["true_tstamp"] is None
    redirect = vectors.load_vector(
        data_root() / "vectors/enrich/enrich-redirect-uri-redirect-event.yaml"
    )
    assert isinstance(redirect, RawRequestVector)
    assert redirect.layer == "enrich"


def test_invalid_request_fields() -> None:
    v = vectors.load_vector(data_root() / "vectors/bad/bad-post-missing-e.yaml")
    assert isinstance(v, InvalidRequestVector)
    assert v.bad_row == "tracker_protocol_violations"
    assert v.schema.endswith("/tracker_protocol_violations/jsonschema/1-0-1")
    assert v.message_contains == ("payload_data", "required")
    assert v.request.body is not None


# --- strictness of vectors.schema.json ----------------------------------------------------------


def _with(change: Callable[[dict[str, Any]], None], base: tuple[str, str]) -> dict[str, Any]:
    doc = copy.deepcopy(_doc(*base))
    change(doc)
    return doc


TRACKER = ("tracker", "tracker-page-view-get-plain")
ENRICH = ("enrich", "enrich-tp2-post-page-view")
BAD = ("bad", "bad-post-missing-e")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    keys = path.split(".")

    def change(doc: dict[str, Any]) -> None:
        target = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    keys = path.split(".")

    def change(doc: dict[str, Any]) -> None:
        target = doc
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


def _both_ids(doc: dict[str, Any]) -> None:
    doc["event_ids"] = [doc["event_id"]]


SCHEMA_VIOLATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], tuple[str, str]]] = {
    "extra top-level key": (_set("extra", 1), TRACKER),
    "missing description": (_drop("description"), TRACKER),
    "empty covers": (_set("covers", []), TRACKER),
    "bad cover prefix": (_set("covers", ["params#e"]), TRACKER),
    "id not kebab": (_set("id", "Page_View"), TRACKER),
    "unknown kind": (_set("kind", "webhook"), TRACKER),
    "non-string param value": (_set("expect.params.dtm", 1665398554084), TRACKER),
    "decoded key not json param": (
        _set("expect.decoded", {"url": {"schema": "x", "data": 1}}),
        TRACKER,
    ),
    "both event_id and event_ids": (_both_ids, TRACKER),
    "neither event id": (_drop("event_id"), TRACKER),
    "uppercase event id": (_set("event_id", "F732D278-120E-4AB6-845B-C1F11CD85DC7"), TRACKER),
    "unknown event key": (_set("event.colour", "red"), TRACKER),
    "unknown event type": (_set("event.type", "pageview"), TRACKER),
    "event missing required key": (_drop("event.page_url"), TRACKER),
    "unknown tracker key": (_set("tracker.debug", True), TRACKER),
    "bad platform": (_set("tracker.platform", "desktop"), TRACKER),
    "bad method": (_set("method", "PUT"), TRACKER),
    "request missing ip": (_drop("request.ip"), ENRICH),
    "request path without slash": (_set("request.path", "i"), ENRICH),
    "request body not string": (_set("request.body", {"a": 1}), ENRICH),
    "expect events empty": (_set("expect.events", []), ENRICH),
    "expected value not string": (_set("expect.events", [{"app_id": 1}]), ENRICH),
    "bad layer": (_set("layer", "collector"), ENRICH),
    "unknown bad row": (_set("expect.bad_row", "oops"), BAD),
    "schema not a badrows uri": (_set("expect.schema", "iglu:com.acme/x/jsonschema/1-0-0"), BAD),
    "missing message_contains": (_drop("expect.message_contains"), BAD),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_VIOLATIONS))
def test_schema_rejects(case: str) -> None:
    change, base = SCHEMA_VIOLATIONS[case]
    doc = _with(change, base)
    path = data_root() / "vectors" / base[0] / f"{doc.get('id', base[1])}.yaml"
    problems = vectors.document_problems(path, doc, vectors.vector_validator())
    assert problems, case


def test_schema_accepts_every_committed_vector() -> None:
    validator = vectors.vector_validator()
    for path in vectors.vector_files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert vectors.document_problems(path, doc, validator) == [], path


# --- file rules -----------------------------------------------------------------------------


def _write(root: Path, kind_dir: str, stem: str, doc: Any) -> Path:
    path = root / "vectors" / kind_dir / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_id_must_equal_file_stem(vectors_copy: Path) -> None:
    doc = _doc(*TRACKER)
    path = _write(vectors_copy, "tracker", "renamed", doc)
    with pytest.raises(VectorError, match="differs from the file name 'renamed'"):
        vectors.load_vector(path, vectors_copy)


def test_kind_must_match_folder(vectors_copy: Path) -> None:
    doc = _doc(*TRACKER)
    path = _write(vectors_copy, "bad", doc["id"], doc)
    with pytest.raises(VectorError, match="belongs in vectors/tracker/"):
        vectors.load_vector(path, vectors_copy)


def test_invalid_vector_makes_load_vectors_fail(vectors_copy: Path) -> None:
    doc = _doc(*ENRICH)
    del doc["request"]
    _write(vectors_copy, "enrich", doc["id"], doc)
    with pytest.raises(VectorError, match="'request' is a required property") as info:
        vectors.load_vectors(root=vectors_copy)
    assert info.value.path.name == "enrich-tp2-post-page-view.yaml"


def test_yaml_syntax_error(vectors_copy: Path) -> None:
    path = vectors_copy / "vectors" / "bad" / "bad-post-missing-e.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(VectorError, match="not valid YAML"):
        vectors.load_vector(path, vectors_copy)


def test_duplicate_ids_across_folders(vectors_copy: Path) -> None:
    doc = _doc(*BAD)
    doc_copy = dict(doc)
    _write(vectors_copy, "bad", "zz-duplicate", {**doc_copy, "id": "zz-duplicate"})
    _write(vectors_copy, "enrich", "zz-duplicate", {**_doc(*ENRICH), "id": "zz-duplicate"})
    with pytest.raises(VectorError, match="also used by"):
        vectors.load_vectors(root=vectors_copy)


def test_missing_or_broken_schema(vectors_copy: Path) -> None:
    schema = vectors_copy / "vectors" / "vectors.schema.json"
    schema.write_text('{"type": 12}')
    with pytest.raises(VectorError, match="not a valid JSON Schema"):
        vectors.vector_validator(vectors_copy)
    schema.write_text("not json")
    with pytest.raises(VectorError, match="cannot use the vector schema"):
        vectors.vector_validator(vectors_copy)
    schema.unlink()
    with pytest.raises(VectorError, match="cannot read the vector schema"):
        vectors.load_vectors(root=vectors_copy)


def test_empty_tree_gives_no_vectors(tmp_path: Path) -> None:
    (tmp_path / "vectors").mkdir()
    assert vectors.vector_files(tmp_path) == []


# --- properties: arbitrary documents never crash the checks -------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=15,
)


@settings(max_examples=100, deadline=None)
@given(doc=json_values)
def test_property_document_problems_never_raise(doc: Any) -> None:
    path = data_root() / "vectors" / "tracker" / "x.yaml"
    problems = vectors.document_problems(path, doc, vectors.vector_validator())
    assert problems  # nothing random is a valid vector


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder reused by every hypothesis example (the schema is compiled once)."""
    root = tmp_path_factory.mktemp("scratch")
    (root / "vectors" / "tracker").mkdir(parents=True)
    shutil.copy(data_root() / "vectors" / "vectors.schema.json", root / "vectors")
    return root


@settings(max_examples=100, deadline=None)
@given(
    key=st.sampled_from(["kind", "id", "covers", "event", "expect", "tracker", "method"]),
    value=json_values,
)
def test_property_mutated_vector_loads_or_raises_vector_error(
    scratch: Path, key: str, value: Any
) -> None:
    doc = _doc(*TRACKER)
    doc[key] = value
    path = _write(scratch, "tracker", TRACKER[1], doc)
    try:
        loaded = vectors.load_vector(path, scratch)
    except VectorError:
        return
    assert loaded.id == TRACKER[1]

"""The web model on the embedded store (SQLite): fixtures, increments, late events, data tests."""

from __future__ import annotations

import itertools
import json
import random
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from plowline.models.config import ModelConfig
from plowline.models.engines import ModelError, SqliteEngine, default_derived_path
from plowline.models.runner import run, run_data_tests
from plowline.models.snapshot import Snapshot, snapshot
from plowline.models.testing import (
    field,
    read_lines,
    slices,
    web_events,
    with_copies,
    with_fields,
)
from plowline.storage.embedded import EmbeddedLoader
from plowline.storage.schemas import DirectorySchemas

FIXTURES = Path(__file__).parent.parent / "fixtures"
LINES = read_lines(FIXTURES / "events.tsv")
SCHEMAS = DirectorySchemas()  # one cache for every loader in this module


def expected(name: str) -> Snapshot:
    doc: Snapshot = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return doc


def load(store: Path, lines: list[bytes], entity_mode: str = "columns") -> None:
    with EmbeddedLoader(store, schemas=SCHEMAS, entity_mode=entity_mode) as loader:
        loader.setup()
        result = loader.load(lines)
    assert result.bad == []


def model(store: Path, **kwargs: Any) -> Snapshot:
    config = kwargs.pop("config", None)
    with SqliteEngine(store) as engine:
        run(engine, config, **kwargs)
        return snapshot(engine)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "events.sqlite"


def test_full_refresh_matches_fixture(store: Path) -> None:
    load(store, LINES)
    assert model(store, full_refresh=True) == expected("expected_full.json")


def test_four_incremental_runs_match_fixtures(store: Path) -> None:
    names = ["expected_slice_1.json", "expected_slice_2.json", "expected_slice_3.json"]
    names.append("expected_full.json")
    modes = []
    for part, name in zip(slices(LINES, 4), names, strict=True):
        load(store, part)
        with SqliteEngine(store) as engine:
            modes.append(run(engine).mode)
            assert snapshot(engine) == expected(name), name
    assert modes == ["full", "incremental", "incremental", "incremental"]


def test_rerun_changes_nothing(store: Path) -> None:
    parts = slices(LINES, 2)
    load(store, parts[0])
    model(store)
    load(store, parts[1])
    first = model(store)
    with SqliteEngine(store) as engine:
        mark = engine.scalar("SELECT high_water FROM derived.plowline_models_manifest")
        report = run(engine)
        assert report.mode == "incremental"
        assert snapshot(engine) == first
        assert engine.scalar("SELECT high_water FROM derived.plowline_models_manifest") == mark


def test_incremental_run_only_rebuilds_sessions_near_the_mark(store: Path) -> None:
    load(store, LINES)
    with SqliteEngine(store) as engine:
        full = run(engine)
        again = run(engine, ModelConfig(lookback=timedelta(minutes=20)))
    assert full.sessions_in_scope == 14
    assert 0 < again.sessions_in_scope < full.sessions_in_scope


def test_late_event_within_lookback_is_folded_in(store: Path) -> None:
    first, rest = LINES[:120], LINES[120:]
    load(store, first)
    model(store)
    # A page ping that arrives after the run, 20 minutes older than the high-water mark.
    view = next(ln for ln in first[-40:] if field(ln, "event") == "page_view")
    t = field(first[-1], "collector_tstamp")
    late = with_fields(
        view,
        event="page_ping",
        event_name="page_ping",
        event_id="00000000-0000-4000-8000-00000000ee01",
        collector_tstamp=t[:11] + f"{int(t[11:13]) - 1:02d}" + t[13:],
        derived_tstamp="",
        pp_yoffset_max="100000",
    )
    load(store, [*rest, late])
    incremental = model(store)
    assert incremental == model(store, full_refresh=True)
    pv = field(view, "contexts").split('"id":"')[1][:36]
    row = next(r for r in incremental["page_views"] if r["page_view_id"] == pv)
    assert row["vertical_scroll_pct"] == 100


def test_event_later_than_lookback_waits_for_full_refresh(store: Path) -> None:
    load(store, LINES[:120])
    model(store)
    old = with_fields(
        LINES[0], event_id="00000000-0000-4000-8000-00000000ee02", domain_sessionid="late-sid"
    )
    load(store, [old])
    zero = ModelConfig(lookback=timedelta(0))
    incremental = model(store, config=zero)
    assert "late-sid" not in {s["domain_sessionid"] for s in incremental["sessions"]}
    full = model(store, config=zero, full_refresh=True)
    assert "late-sid" in {s["domain_sessionid"] for s in full["sessions"]}


def test_jsonb_entities_give_the_same_tables(store: Path) -> None:
    load(store, LINES, entity_mode="jsonb")
    assert model(store, config=ModelConfig(entities="jsonb")) == expected("expected_full.json")
    assert model(store, full_refresh=True) == expected("expected_full.json")  # auto-detected
    with pytest.raises(ModelError, match="loaded with --entities jsonb"):
        model(store, config=ModelConfig(entities="columns"))


def test_events_without_web_page_entities(store: Path) -> None:
    load(store, [with_fields(line, contexts="") for line in LINES[:50]])
    tables = model(store)
    assert tables["page_views"] == []
    assert len(tables["sessions"]) > 0
    assert all(s["page_views"] == 0 and s["first_page_view_id"] is None for s in tables["sessions"])


def test_data_tests_pass_and_catch_breakage(store: Path) -> None:
    load(store, LINES)
    with SqliteEngine(store) as engine:
        run(engine)
        assert all(r.passed for r in run_data_tests(engine))
        engine.execute("DELETE FROM derived.users WHERE domain_userid = 'duid-000001'")
        engine.execute("INSERT INTO derived.page_views SELECT * FROM derived.page_views LIMIT 1")
        failed = {r.name: r.failures for r in run_data_tests(engine) if not r.passed}
    assert set(failed) == {"sessions_to_users", "page_views_id_unique", "sessions_page_view_count"}


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no embedded store"):
        SqliteEngine(tmp_path / "missing.sqlite")
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with SqliteEngine(empty) as engine, pytest.raises(ModelError, match=r"events not found"):
        run(engine)
    with SqliteEngine(empty) as engine, pytest.raises(ModelError, match="run` first"):
        run_data_tests(engine)
    with pytest.raises(ModelError, match="different file"):
        SqliteEngine(empty, derived_path=empty)
    assert default_derived_path(Path("/x/ev.sqlite")) == Path("/x/ev.derived.sqlite")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(LINES) - 1), max_size=6))
def test_any_increments_equal_one_full_refresh(cuts: list[int]) -> None:
    bounds = [0, *sorted(set(cuts)), len(LINES)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "events.sqlite"
        for lo, hi in itertools.pairwise(bounds):
            load(store, LINES[lo:hi])
            model(store)
        assert model(store) == expected("expected_full.json")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**16),
    fractions=st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=5),
    lookback_minutes=st.integers(min_value=60, max_value=600),
)
def test_generated_traffic_increments_equal_full_refresh(
    seed: int, fractions: list[float], lookback_minutes: int
) -> None:
    # Events arrive up to 45 minutes late; any lookback of an hour or more absorbs that.
    lines = web_events(
        120, seed=seed, span=timedelta(hours=4), late_fraction=0.2, max_late=timedelta(minutes=45)
    )
    config = ModelConfig(lookback=timedelta(minutes=lookback_minutes))
    bounds = sorted({0, len(lines), *(int(f * len(lines)) for f in fractions)})
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "events.sqlite"
        for lo, hi in itertools.pairwise(bounds):
            load(store, lines[lo:hi])
            incremental = model(store, config=config)
        assert incremental == model(store, config=config, full_refresh=True)


def dup_lines(seed: int, picks: list[tuple[int, int]]) -> list[bytes]:
    """Generated traffic (4 hours, nothing late) with copies of some of its events."""
    base = web_events(60, seed=seed, span=timedelta(hours=4), late_fraction=0.0)
    return with_copies(base, picks)


DUP_CONFIG = ModelConfig(lookback=timedelta(hours=12))  # every run re-scopes every session


def load_batches(store: Path, batches: list[list[bytes]]) -> None:
    with EmbeddedLoader(store, schemas=SCHEMAS) as loader:
        loader.setup()
        for n, batch in enumerate(batches):
            assert loader.load(batch, batch=f"batch-{n}").bad == []


def shuffled_batches(
    lines: list[bytes], order: random.Random, cuts: list[float]
) -> list[list[bytes]]:
    mixed = list(lines)
    order.shuffle(mixed)
    bounds = sorted({0, len(mixed), *(int(f * len(mixed)) for f in cuts)})
    return [mixed[lo:hi] for lo, hi in itertools.pairwise(bounds)]


DUP_PICKS = st.lists(
    st.tuples(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=6)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**16),
    picks=DUP_PICKS,
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=3),
)
def test_duplicated_events_give_one_answer_whatever_the_load_order(
    seed: int, picks: list[tuple[int, int]], order: random.Random, cuts: list[float]
) -> None:
    """Issue 20: copies of one event (exact duplicates, or the same event_id, collector_tstamp
    and page view id with other fields changed): the copy kept does not depend on the order
    rows were loaded in, and incremental runs over any batches equal one full refresh."""
    lines = dup_lines(seed, picks)
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "a.sqlite", Path(tmp) / "b.sqlite"
        load_batches(first, [lines])
        full = model(first, config=DUP_CONFIG, full_refresh=True)
        batches = shuffled_batches(lines, order, cuts)
        with EmbeddedLoader(second, schemas=SCHEMAS) as loader:
            loader.setup()
            for n, batch in enumerate(batches):
                assert loader.load(batch, batch=f"batch-{n}").bad == []
                incremental = model(second, config=DUP_CONFIG)
        assert incremental == full
        assert model(second, config=DUP_CONFIG, full_refresh=True) == full

"""The web model on a real PostgreSQL: the same fixtures and expected tables as on SQLite."""

from __future__ import annotations

import itertools
import json
import random
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from plowline.models.cli import main
from plowline.models.config import ModelConfig
from plowline.models.engines import PostgresEngine, SqliteEngine
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
from plowline.storage.postgres import PostgresLoader
from plowline.storage.schemas import DirectorySchemas

pytestmark = pytest.mark.postgres

FIXTURES = Path(__file__).parent.parent / "fixtures"
LINES = read_lines(FIXTURES / "events.tsv")
SCHEMAS = DirectorySchemas()


def expected(name: str) -> Snapshot:
    doc: Snapshot = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return doc


@pytest.fixture
def dsn(pg_database: Any) -> str:
    return str(pg_database.dsn)


def load(dsn: str, lines: list[bytes], entity_mode: Any = "columns") -> None:
    with PostgresLoader(dsn, schemas=SCHEMAS, entity_mode=entity_mode) as loader:
        loader.setup()
        result = loader.load(lines)
    assert result.bad == []


def model(dsn: str, **kwargs: Any) -> Snapshot:
    config = kwargs.pop("config", None)
    with PostgresEngine(dsn) as engine:
        run(engine, config, **kwargs)
        return snapshot(engine)


def test_full_refresh_matches_fixture(dsn: str) -> None:
    load(dsn, LINES)
    assert model(dsn, full_refresh=True) == expected("expected_full.json")


def test_four_incremental_runs_match_fixtures(dsn: str) -> None:
    names = ["expected_slice_1.json", "expected_slice_2.json", "expected_slice_3.json"]
    names.append("expected_full.json")
    for part, name in zip(slices(LINES, 4), names, strict=True):
        load(dsn, part)
        assert model(dsn) == expected(name), name


def test_rerun_changes_nothing_and_data_tests_pass(dsn: str) -> None:
    load(dsn, LINES)
    first = model(dsn)
    with PostgresEngine(dsn) as engine:
        assert run(engine).mode == "incremental"
        assert snapshot(engine) == first
        assert all(r.passed for r in run_data_tests(engine))


def test_jsonb_entities_give_the_same_tables(dsn: str) -> None:
    load(dsn, LINES, entity_mode="jsonb")
    tables = model(dsn, config=ModelConfig(entities="jsonb"))
    assert tables == expected("expected_full.json")


def test_cli_run_full_refresh_and_test(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    load(dsn, LINES)
    assert main(["run", "--engine", "postgres", "--dsn", dsn]) == 0
    assert main(["full-refresh", "--engine", "postgres", "--dsn", dsn, "-q"]) == 0
    assert main(["test", "--engine", "postgres", "--dsn", dsn]) == 0
    out, err = capsys.readouterr()
    assert "full: 14 sessions rebuilt" in out
    assert "11 passed, 0 failed" in out
    assert "PASS sessions_to_users" in err
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT mode FROM derived.plowline_models_manifest").fetchone()
    assert row == ("full",)


def test_concurrent_runs_queue_up(dsn: str) -> None:
    load(dsn, LINES)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            model(dsn)
        except BaseException as exc:  # reported below; a thread cannot raise into the test
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert model(dsn) == expected("expected_full.json")


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(LINES) - 1), max_size=4))
def test_any_increments_equal_one_full_refresh(dsn: str, cuts: list[int]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS atomic CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS derived CASCADE")
    bounds = [0, *sorted(set(cuts)), len(LINES)]
    for lo, hi in itertools.pairwise(bounds):
        load(dsn, LINES[lo:hi])
        model(dsn)
    assert model(dsn) == expected("expected_full.json")


def _fresh(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS atomic CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS derived CASCADE")


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(min_value=0, max_value=2**16),
    picks=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=6)),
        min_size=1,
        max_size=25,
    ),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=3),
)
def test_duplicated_events_give_the_same_tables_on_postgres_and_sqlite(
    dsn: str,
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    picks: list[tuple[int, int]],
    order: random.Random,
    cuts: list[float],
) -> None:
    """Issue 20: copies of one event (exact duplicates, or the same event_id,
    collector_tstamp and page view id with other fields changed), loaded in any order and
    batches: PostgreSQL's incremental runs equal its full refresh and SQLite's full refresh."""
    base = web_events(60, seed=seed, span=timedelta(hours=4), late_fraction=0.0)
    lines = with_copies(base, picks)
    config = ModelConfig(lookback=timedelta(hours=12))
    store = tmp_path_factory.mktemp("dup") / "events.sqlite"
    with EmbeddedLoader(store, schemas=SCHEMAS) as embedded:
        embedded.setup()
        assert embedded.load(lines).bad == []
    with SqliteEngine(store) as engine:
        run(engine, config, full_refresh=True)
        on_sqlite = snapshot(engine)
    _fresh(dsn)
    mixed = list(lines)
    order.shuffle(mixed)
    bounds = sorted({0, len(mixed), *(int(f * len(mixed)) for f in cuts)})
    with PostgresLoader(dsn, schemas=SCHEMAS) as loader:
        loader.setup()
        for n, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            assert loader.load(mixed[lo:hi], batch=f"batch-{n}").bad == []
            incremental = model(dsn, config=config)
    assert incremental == on_sqlite
    assert model(dsn, config=config, full_refresh=True) == on_sqlite


def test_app_id_filter_on_postgres(dsn: str) -> None:
    """The app_id filter (quotes in the id included) on PostgreSQL: only that app's rows."""
    lines = [
        with_fields(line, app_id="it's-other") if n % 3 == 0 else line
        for n, line in enumerate(LINES)
    ]
    load(dsn, lines)
    picked = model(dsn, config=ModelConfig(app_ids=("it's-other",)), full_refresh=True)
    assert picked["page_views"]
    assert {v["app_id"] for v in picked["page_views"]} == {"it's-other"}
    assert {s["app_id"] for s in picked["sessions"]} <= {"it's-other"}


def test_late_event_cut_off_on_postgres(dsn: str) -> None:
    """days_late_allowed on PostgreSQL: a page view sent 3 days and 1 ms after it was
    created is not modelled; at 3 days it is (the same rule as on SQLite)."""
    views = [line for line in LINES if b"\tpage_view\t" in line][:2]
    late = with_fields(
        views[0],
        dvce_created_tstamp="2026-11-01 00:00:00.000",
        dvce_sent_tstamp="2026-11-04 00:00:00.001",
    )
    edge = with_fields(
        views[1],
        dvce_created_tstamp="2026-11-01 00:00:00.000",
        dvce_sent_tstamp="2026-11-04 00:00:00.000",
    )
    load(dsn, [late, edge])
    tables = model(dsn, full_refresh=True)
    kept = {v["event_id"] for v in tables["page_views"]}
    assert str(field(edge, "event_id")) in kept
    assert str(field(late, "event_id")) not in kept
    wider = model(dsn, config=ModelConfig(days_late_allowed=4), full_refresh=True)
    assert str(field(late, "event_id")) in {v["event_id"] for v in wider["page_views"]}


def test_bot_filter_on_postgres(dsn: str) -> None:
    """The bot filter on PostgreSQL: the same rule as on SQLite (case-sensitive patterns)."""
    views = [line for line in LINES if b"\tpage_view\t" in line][:3]
    bot = with_fields(views[0], useragent="Mozilla/5.0 (compatible; YandexBot/3.0)")
    empty = with_fields(views[1], useragent="")
    load(dsn, [bot, empty, views[2]])
    kept = {v["event_id"] for v in model(dsn, full_refresh=True)["page_views"]}
    assert kept == {str(field(views[2], "event_id"))}
    everything = model(dsn, config=ModelConfig(bot_filter=False), full_refresh=True)
    assert len(everything["page_views"]) == 3

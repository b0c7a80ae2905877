"""Run the web model: full refresh or incremental, then (on demand) its data tests.

Incremental rule: the manifest keeps the high-water mark (latest collector_tstamp seen). A run
takes every session with an event at or after `high-water mark - lookback`, and rebuilds those
sessions, their page views and their users from all of their events. Events loaded late but
within the lookback window are folded in; a rerun rebuilds the same rows to the same values.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from plowline.models.config import ModelConfig
from plowline.models.dialects import WEB_PAGE_TABLE, macros
from plowline.models.engines import Engine, ModelError
from plowline.models.sqlfiles import Macro, data_tests, statements

Mode = Literal["full", "incremental"]
Progress = Callable[[str], None]
MODEL = "web"
STEPS = (
    ("events", "plw_events", "events of the sessions in scope"),
    ("page_views", "plw_page_views", "page views"),
    ("sessions", "plw_sessions", "sessions"),
    ("apply", "plw_users", "users rebuilt; tables updated"),
)


@dataclass(frozen=True, slots=True)
class RunReport:
    mode: Mode
    lower_bound: datetime | None
    high_water: datetime | None
    sessions_in_scope: int
    counts: dict[str, int]
    seconds: float


@dataclass(frozen=True, slots=True)
class DataTestResult:
    name: str
    failures: int

    @property
    def passed(self) -> bool:
        return self.failures == 0


def _quiet(_message: str) -> None:
    return None


def _macros(engine: Engine, config: ModelConfig) -> dict[str, Macro]:
    exists = engine.table_exists("atomic", WEB_PAGE_TABLE)
    found = engine.columns("atomic", WEB_PAGE_TABLE) if exists else set()
    jsonb = config.entities == "jsonb"
    if config.entities == "auto":
        jsonb = "data" in found and "id" not in found
    wanted = "data" if jsonb else "id"
    if exists and wanted not in found:
        raise ModelError(
            f"atomic.{WEB_PAGE_TABLE} has no {wanted!r} column: was it loaded with "
            f"--entities {'columns' if jsonb else 'jsonb'}? (try --entities auto)"
        )
    return macros(engine.dialect, config, web_page_exists=exists, jsonb=jsonb)


def _run_file(engine: Engine, name: str, table: dict[str, Macro]) -> None:
    for statement in statements(name, engine.dialect, table):
        engine.execute(statement)


def _migrate(engine: Engine) -> None:
    """Tables an older version made: page_views and sessions.domain_userid may be NULL since
    issue 20 (SQLite cannot drop NOT NULL: the table is rebuilt with its rows)."""
    for table in ("page_views", "sessions"):
        if engine.dialect == "postgres":
            engine.execute(f"ALTER TABLE derived.{table} ALTER COLUMN domain_userid DROP NOT NULL")
            continue
        ddl = str(
            engine.scalar(
                f"SELECT sql FROM derived.sqlite_master WHERE type = 'table' AND name = '{table}'"  # noqa: S608 - fixed names
            )
        )
        if "domain_userid TEXT NOT NULL" not in ddl:
            continue
        engine.execute(f"ALTER TABLE derived.{table} RENAME TO {table}_before_issue_20")
        body = ddl[ddl.index("(") :].replace("domain_userid TEXT NOT NULL", "domain_userid TEXT")
        engine.execute(f"CREATE TABLE derived.{table} {body}")
        engine.execute(
            f"INSERT INTO derived.{table} SELECT * FROM derived.{table}_before_issue_20"  # noqa: S608 - fixed names
        )
        engine.execute(f"DROP TABLE derived.{table}_before_issue_20")


def setup(engine: Engine, config: ModelConfig) -> None:
    """Create the derived schema, tables and the indexes the incremental run relies on."""
    if not engine.table_exists("atomic", "events"):
        raise ModelError("atomic.events not found: load events first (plowline-load)")
    table = _macros(engine, config)
    with engine.transaction():
        for name in ("schema", "tables"):
            _run_file(engine, name, table)
        _migrate(engine)
        for name in ("indexes", "analyze"):
            _run_file(engine, name, table)
        if engine.table_exists("atomic", WEB_PAGE_TABLE):
            _run_file(engine, "index_web_page", table)


def _count(engine: Engine, table: str) -> int:
    return int(engine.scalar(f"SELECT COUNT(*) FROM {table}"))  # noqa: S608 - fixed names


def run(
    engine: Engine,
    config: ModelConfig | None = None,
    *,
    full_refresh: bool = False,
    progress: Progress = _quiet,
) -> RunReport:
    """Bring page_views, sessions and users up to date with atomic.events."""
    config = config or ModelConfig()
    started = time.perf_counter()
    setup(engine, config)
    table = _macros(engine, config)
    counts: dict[str, int] = {}
    with engine.transaction():
        previous = engine.to_datetime(
            engine.scalar(
                f"SELECT high_water FROM derived.plowline_models_manifest WHERE model = '{MODEL}'"  # noqa: S608 - a constant
            )
        )
        latest = engine.to_datetime(
            engine.scalar("SELECT MAX(collector_tstamp) FROM atomic.events")
        )
        mode: Mode = "full" if full_refresh or previous is None else "incremental"
        lower = None if previous is None or mode == "full" else previous - config.lookback
        # The mark never moves back (e.g. when events were deleted); a full refresh resets it.
        high = latest if mode == "full" or previous is None else max(previous, latest or previous)
        engine.set_run(lower, high, mode, int(config.lookback.total_seconds()), datetime.now(UTC))
        if mode == "full":
            progress("full refresh: clearing page_views, sessions, users")
            _run_file(engine, "clear", table)
            _run_file(engine, "scope_full", table)
        else:
            progress(f"incremental: events since {lower} (high-water {previous} - lookback)")
            _run_file(engine, "scope_incremental", table)
        in_scope = _count(engine, "plw_scope")
        progress(f"scope: {in_scope} sessions")
        for name, result, what in STEPS:
            t0 = time.perf_counter()
            _run_file(engine, name, table)
            counts[name] = _count(engine, result)
            progress(f"{name}: {counts[name]} {what} ({time.perf_counter() - t0:.2f}s)")
    return RunReport(mode, lower, high, in_scope, counts, time.perf_counter() - started)


def run_data_tests(engine: Engine, progress: Progress = _quiet) -> list[DataTestResult]:
    """Run the data tests (uniqueness, not-null, page_views -> sessions -> users)."""
    if not engine.table_exists("derived", "sessions"):
        raise ModelError("no model tables yet: run `plowline-models run` first")
    results = []
    for name, query in data_tests(engine.dialect):
        result = DataTestResult(name, int(engine.scalar(query)))
        progress(
            f"{'PASS' if result.passed else 'FAIL'} {name}"
            + ("" if result.passed else f": {result.failures} rows break the rule")
        )
        results.append(result)
    return results

"""Hand-computed model rules, SQL file handling, settings and the command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from plowline.models.cli import main
from plowline.models.config import ConfigError, ModelConfig
from plowline.models.dialects import macros
from plowline.models.engines import ModelError, PostgresEngine, SqliteEngine
from plowline.models.runner import run, run_data_tests
from plowline.models.snapshot import snapshot
from plowline.models.sqlfiles import SQL_DIR, SqlFileError, expand, split, statements
from plowline.models.testing import field, read_lines, web_page, with_fields
from plowline.storage.embedded import EmbeddedLoader

FIXTURES = Path(__file__).parent.parent / "fixtures"
BASE = next(ln for ln in read_lines(FIXTURES / "events.tsv") if field(ln, "event") == "page_view")
CLEAR = dict.fromkeys(
    (
        "page_referrer",
        "refr_urlhost",
        "refr_urlscheme",
        "refr_urlport",
        "refr_urlpath",
        "refr_medium",
        "refr_source",
        "refr_term",
        "mkt_medium",
        "mkt_source",
        "mkt_campaign",
        "user_id",
        "pp_xoffset_min",
        "pp_xoffset_max",
        "pp_yoffset_min",
    ),
    "",
)


def event(n: int, kind: str, at: str, session: str, page: str, **extra: str) -> bytes:
    values: dict[str, str] = {
        **CLEAR,
        "event_id": f"00000000-0000-4000-8000-{n:012d}",
        "event": kind,
        "event_name": kind,
        "collector_tstamp": f"2026-11-02 {at}",
        "derived_tstamp": f"2026-11-02 {at}",
        "domain_userid": "duid-u",
        "domain_sessionid": session,
        "contexts": web_page(page),
        "page_url": f"https://shop.example.com/{page[-1]}",
        "br_viewheight": "720",
        "doc_height": "2000",
        "pp_yoffset_max": "",
    }
    values.update(extra)
    return with_fields(BASE, **values)


PV_A = "00000000-0000-4000-8000-0000000000a1"
PV_B = "00000000-0000-4000-8000-0000000000a2"
PV_C = "00000000-0000-4000-8000-0000000000a3"
PV_D = "00000000-0000-4000-8000-0000000000a4"
VISITS = [
    event(1, "page_view", "10:00:00.000", "s1", PV_A, mkt_medium="cpc", mkt_source="google"),
    event(2, "page_ping", "10:00:05.000", "s1", PV_A, pp_yoffset_max="500"),
    event(3, "page_ping", "10:00:15.000", "s1", PV_A, pp_yoffset_max="1000"),
    event(4, "page_ping", "10:00:16.000", "s1", PV_A, pp_yoffset_max="900"),
    event(5, "page_view", "10:01:00.000", "s1", PV_B, user_id="alice", refr_medium="internal"),
    event(6, "page_view", "12:00:00.000", "s2", PV_C),
]


def build(tmp_path: Path, lines: list[bytes]) -> Path:
    store = tmp_path / "events.sqlite"
    with EmbeddedLoader(store) as loader:
        loader.setup()
        assert loader.load(lines).bad == []
    return store


def by_key(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(r[key]): r for r in rows}


def test_hand_computed_page_views_sessions_users(tmp_path: Path) -> None:
    store = build(tmp_path, VISITS)
    with SqliteEngine(store) as engine:
        run(engine)
        tables = snapshot(engine)
    views = by_key(tables["page_views"], "page_view_id")
    a = views[PV_A]
    # Pings at :05, :15 and :16 fall in two 10 s buckets: 5 s first visit + 10 s.
    assert (a["page_pings"], a["engaged_time_s"], a["absolute_time_s"]) == (3, 15, 16)
    assert a["end_tstamp"] == "2026-11-02 10:00:16.000"
    assert a["vertical_scroll_pct"] == (1000 + 720) * 100 // 2000
    assert (a["page_view_in_session_index"], views[PV_B]["page_view_in_session_index"]) == (1, 2)
    assert views[PV_B]["engaged_time_s"] == 0
    # No pings: the page view's own viewport, 720 of 2000 px (as dbt-snowplow-web).
    assert views[PV_B]["vertical_scroll_pct"] == 36
    sessions = by_key(tables["sessions"], "domain_sessionid")
    s1 = sessions["s1"]
    assert (s1["page_views"], s1["events"], s1["engaged_time_s"], s1["duration_s"]) == (
        2,
        5,
        15,
        60,
    )
    assert (s1["first_page_view_id"], s1["last_page_view_id"]) == (PV_A, PV_B)
    assert (s1["channel"], s1["user_id"]) == ("Paid Search", "alice")
    assert (sessions["s2"]["channel"], sessions["s2"]["user_id"]) == ("Direct", None)
    [user] = tables["users"]
    assert user["domain_userid"] == "duid-u"
    # Stitched: the latest known user_id, even though the last session carried none.
    assert (user["user_id"], user["sessions"], user["page_views"]) == ("alice", 2, 3)
    assert (user["first_session_id"], user["last_session_id"]) == ("s1", "s2")
    assert (user["first_channel"], user["last_channel"]) == ("Paid Search", "Direct")
    assert (user["start_tstamp"], user["end_tstamp"]) == (
        "2026-11-02 10:00:00.000",
        "2026-11-02 12:00:00.000",
    )


def test_ping_in_a_later_session_is_not_attributed(tmp_path: Path) -> None:
    stray = event(7, "page_ping", "12:00:20.000", "s2", PV_A, pp_yoffset_max="1900")
    store = build(tmp_path, [*VISITS, stray])
    with SqliteEngine(store) as engine:
        run(engine)
        views = by_key(snapshot(engine)["page_views"], "page_view_id")
    assert views[PV_A]["page_pings"] == 3


def test_channels(tmp_path: Path) -> None:
    cases = {
        "c1": ({"mkt_medium": "email"}, "Email"),
        "c2": ({"refr_medium": "search", "page_referrer": "https://g/"}, "Organic Search"),
        "c3": ({"refr_medium": "social", "page_referrer": "https://t.co/"}, "Organic Social"),
        "c4": ({"refr_medium": "unknown", "page_referrer": "https://x/"}, "Referral"),
        "c5": ({"mkt_campaign": "w48"}, "Other Campaign"),
        "c6": ({"mkt_medium": "Display"}, "Display"),
    }
    lines = [
        event(10 + i, "page_view", "09:00:00.000", sid, f"{PV_A[:-2]}{i:02d}", **extra)
        for i, (sid, (extra, _)) in enumerate(cases.items())
    ]
    store = build(tmp_path, lines)
    with SqliteEngine(store) as engine:
        run(engine)
        sessions = by_key(snapshot(engine)["sessions"], "domain_sessionid")
    assert {sid: sessions[sid]["channel"] for sid in cases} == {
        sid: channel for sid, (_, channel) in cases.items()
    }


def test_every_sql_file_expands_on_both_dialects() -> None:
    names = [p.stem for p in SQL_DIR.glob("*.sql")]
    names += ["schema", "indexes", "index_web_page", "clear", "analyze"]
    for dialect in ("postgres", "sqlite"):
        table = macros(dialect, ModelConfig(), web_page_exists=True)
        for name in names:
            for statement in statements(name, dialect, table):
                assert "{{" not in statement
                assert statement.strip()


def test_macro_and_split_rules() -> None:
    with pytest.raises(SqlFileError, match="unknown SQL macro"):
        expand("SELECT {{nope}}", {})
    with pytest.raises(SqlFileError, match="takes no arguments"):
        expand("{{t(x)}}", {"t": "TEXT"})
    assert expand("{{f(a, b)}}", {"f": lambda a, b: f"{b}-{a}"}) == "b-a"
    assert split("-- c\nSELECT 1;\n\nSELECT\n 2;\nSELECT 3") == [
        "SELECT 1",
        "SELECT\n 2",
        "SELECT 3",
    ]
    with pytest.raises(SqlFileError, match="no SQL file"):
        statements("missing", "sqlite", {})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lookback": timedelta(hours=-1)},
        {"heartbeat_s": 0},
        {"min_visit_length_s": 4000},
        {"heartbeat_s": True},
        {"entities": "rows"},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        ModelConfig(**kwargs)


def test_cli_on_the_embedded_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(build(tmp_path, VISITS))
    assert main(["run", "--engine", "embedded", "--path", store]) == 0
    assert main(["run", "--engine", "embedded", "--path", store, "-q"]) == 0
    assert main(["test", "--engine", "embedded", "--path", store]) == 0
    derived = str(tmp_path / "elsewhere.sqlite")
    assert (
        main(["full-refresh", "--engine", "embedded", "--path", store, "--derived-path", derived])
        == 0
    )
    out, err = capsys.readouterr()
    assert "full: 2 sessions rebuilt, 3 page views, 1 users" in out
    assert "incremental: 2 sessions rebuilt" in out
    assert "11 passed, 0 failed" in out
    assert "scope: 2 sessions" in err
    assert Path(derived).is_file()


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--engine", "embedded", "--path", str(tmp_path / "none.sqlite")]) == 1
    assert "no embedded store" in capsys.readouterr().err
    for argv in (
        ["run", "--engine", "embedded"],
        ["run", "--engine", "postgres", "--dsn", ""],
        ["run", "--engine", "embedded", "--path", "x", "--heartbeat", "0"],
        ["run", "--engine", "embedded", "--path", "x", "--lookback-hours", "soon"],
        ["rebuild", "--engine", "embedded", "--path", "x"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv
    store = str(build(tmp_path, VISITS))
    with SqliteEngine(store) as engine:
        run(engine)
        engine.execute("DELETE FROM derived.users")
    assert main(["test", "--engine", "embedded", "--path", store, "-q"]) == 1
    assert "10 passed, 1 failed" in capsys.readouterr().out


def test_cli_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in ("full-refresh", "--lookback-hours", "--dsn", "--path", "data tests"):
        assert word in out


def test_unreachable_postgres_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    dsn = "postgresql://nobody@127.0.0.1:1/none"  # port 1: nothing listens on loopback
    with pytest.raises(ModelError, match="cannot connect to PostgreSQL"):
        PostgresEngine(dsn)
    assert main(["run", "--engine", "postgres", "--dsn", dsn]) == 1
    assert "cannot connect to PostgreSQL" in capsys.readouterr().err


def test_null_domain_userid_keeps_the_page_view_and_one_domain_userid_per_session(
    tmp_path: Path,
) -> None:
    """Issue 20, as dbt-snowplow-web: a page view whose event has no domain_userid is kept;
    every page view of a session carries the session's domain_userid (its first non-NULL one
    by time); a session with none is kept with NULL and makes no user."""
    lines = [
        event(1, "page_view", "10:00:00.000", "s1", PV_A, domain_userid=""),
        event(2, "page_view", "10:01:00.000", "s1", PV_B, domain_userid="duid-first"),
        event(3, "page_view", "10:02:00.000", "s1", PV_C, domain_userid="duid-second"),
        event(4, "page_view", "12:00:00.000", "s2", PV_D, domain_userid=""),
    ]
    store = build(tmp_path, lines)
    with SqliteEngine(store) as engine:
        run(engine)
        tables = snapshot(engine)
        assert all(r.passed for r in run_data_tests(engine))
    views = by_key(tables["page_views"], "page_view_id")
    assert {k: v["domain_userid"] for k, v in views.items()} == {
        PV_A: "duid-first",
        PV_B: "duid-first",
        PV_C: "duid-first",
        PV_D: None,
    }
    sessions = by_key(tables["sessions"], "domain_sessionid")
    assert (sessions["s1"]["domain_userid"], sessions["s1"]["page_views"]) == ("duid-first", 3)
    assert (sessions["s2"]["domain_userid"], sessions["s2"]["page_views"]) == (None, 1)
    assert [(u["domain_userid"], u["sessions"]) for u in tables["users"]] == [("duid-first", 1)]


def test_tables_an_older_version_made_take_null_domain_userids(tmp_path: Path) -> None:
    """derived.page_views/sessions made with domain_userid NOT NULL (before issue 20) are
    rebuilt with their rows on SQLite (PostgreSQL drops the constraint)."""
    store = build(tmp_path, VISITS)
    with SqliteEngine(store) as engine:
        run(engine)
        for table in ("page_views", "sessions"):
            ddl = str(
                engine.scalar(f"SELECT sql FROM derived.sqlite_master WHERE name = '{table}'")  # noqa: S608 - fixed names
            )
            engine.execute(f"DROP TABLE derived.{table}")
            old = ddl[ddl.index("(") :].replace(
                "domain_userid TEXT,", "domain_userid TEXT NOT NULL,"
            )
            engine.execute(f"CREATE TABLE derived.{table} {old}")
        run(engine, full_refresh=True)
    with EmbeddedLoader(store) as loader:
        loader.setup()
        extra = event(9, "page_view", "13:00:00.000", "s9", PV_D, domain_userid="")
        assert loader.load([extra]).bad == []
    with SqliteEngine(store) as engine:
        run(engine)
        tables = snapshot(engine)
    views = by_key(tables["page_views"], "page_view_id")
    assert views[PV_D]["domain_userid"] is None
    assert {PV_A, PV_B, PV_C} <= set(views)


def test_app_id_filter(tmp_path: Path) -> None:
    """ModelConfig(app_ids=...) (`--app-id`, dbt-snowplow-web's snowplow__app_id): only
    events of those app_ids are modelled; the default () models every app_id."""
    lines = [
        *VISITS,
        event(8, "page_view", "13:00:00.000", "s3", PV_D, app_id="it's-other"),
    ]
    store = build(tmp_path, lines)
    with SqliteEngine(store) as engine:
        run(engine, ModelConfig(app_ids=("it's-other",)), full_refresh=True)
        only_other = snapshot(engine)
        run(engine, ModelConfig(), full_refresh=True)
        every = snapshot(engine)
    assert [v["page_view_id"] for v in only_other["page_views"]] == [PV_D]
    assert [s["domain_sessionid"] for s in only_other["sessions"]] == ["s3"]
    assert {v["page_view_id"] for v in every["page_views"]} == {PV_A, PV_B, PV_C, PV_D}
    with pytest.raises(ConfigError, match="app_ids"):
        ModelConfig(app_ids=("",))


def test_late_event_cut_off(tmp_path: Path) -> None:
    """days_late_allowed (dbt-snowplow-web's snowplow__days_late_allowed, default 3): an
    event sent more than that many days after it was created is not modelled; exactly at
    the limit, or without device times, it is."""
    created = "2026-11-02 13:00:00.000"
    lines = [
        *VISITS,
        event(
            8,
            "page_view",
            "13:00:00.000",
            "s3",
            PV_D,
            dvce_created_tstamp=created,
            dvce_sent_tstamp="2026-11-05 13:00:00.001",
        ),
        event(
            9,
            "page_view",
            "14:00:00.000",
            "s4",
            "00000000-0000-4000-8000-0000000000a5",
            dvce_created_tstamp=created,
            dvce_sent_tstamp="2026-11-05 13:00:00.000",
        ),
    ]
    store = build(tmp_path, lines)
    with SqliteEngine(store) as engine:
        run(engine, full_refresh=True)
        default = {v["page_view_id"] for v in snapshot(engine)["page_views"]}
        run(engine, ModelConfig(days_late_allowed=4), full_refresh=True)
        wider = {v["page_view_id"] for v in snapshot(engine)["page_views"]}
    assert PV_D not in default
    assert {PV_A, PV_B, PV_C, "00000000-0000-4000-8000-0000000000a5"} <= default
    assert PV_D in wider


def test_bot_filter(tmp_path: Path) -> None:
    """bot_filter (default on, as dbt-snowplow-web's snowplow__ua_bot_filter): events with an
    empty useragent or one holding a bot pattern are left out; off, they are modelled."""
    pv_e = "00000000-0000-4000-8000-0000000000a5"
    lines = [
        *VISITS,
        event(8, "page_view", "13:00:00.000", "s3", PV_D, useragent="Mozilla/5.0 Googlebot/2.1"),
        event(9, "page_view", "14:00:00.000", "s4", pv_e, useragent=""),
    ]
    store = build(tmp_path, lines)
    with SqliteEngine(store) as engine:
        run(engine, full_refresh=True)
        default = {v["page_view_id"] for v in snapshot(engine)["page_views"]}
        run(engine, ModelConfig(bot_filter=False), full_refresh=True)
        unfiltered = {v["page_view_id"] for v in snapshot(engine)["page_views"]}
    assert default == {PV_A, PV_B, PV_C}
    assert unfiltered == {PV_A, PV_B, PV_C, PV_D, pv_e}


@pytest.mark.parametrize(("viewheight", "expected_pct"), [("725", 36), ("730", 37), ("", 0)])
def test_scroll_depth_rounds_half_up(tmp_path: Path, viewheight: str, expected_pct: int) -> None:
    """Scroll depth is rounded (36.25 -> 36, 36.5 -> 37), not truncated, on a page view
    without pings."""
    line = event(1, "page_view", "10:00:00.000", "s1", PV_A, br_viewheight=viewheight)
    store = build(tmp_path, [line])
    with SqliteEngine(store) as engine:
        run(engine)
        [view] = snapshot(engine)["page_views"]
    assert view["vertical_scroll_pct"] == expected_pct

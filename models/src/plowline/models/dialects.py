"""Everything that differs between PostgreSQL and SQLite in the model SQL, in one place.

Types, time arithmetic and text collation are macros; DDL that cannot be written portably
(schema creation, index names, truncation) lives in sql/postgres/ and sql/sqlite/.
"""

from __future__ import annotations

from typing import Literal

from plowline.models.config import BOT_PATTERNS, ModelConfig
from plowline.models.sqlfiles import Macro

Dialect = Literal["postgres", "sqlite"]
WEB_PAGE_TABLE = "com_snowplowanalytics_snowplow_web_page_1"


def macros(
    dialect: Dialect,
    config: ModelConfig,
    *,
    web_page_exists: bool,
    jsonb: bool | None = None,
) -> dict[str, Macro]:
    """The macro table; `jsonb` (default: from the config) says how web_page is stored."""
    as_json = config.entities == "jsonb" if jsonb is None else jsonb
    out: dict[str, Macro] = {
        "heartbeat": str(config.heartbeat_s),
        "min_visit_length": str(config.min_visit_length_s),
    }
    if dialect == "postgres":
        out |= {
            "timestamp": "TIMESTAMP",
            "bigint": "BIGINT",
            "double": "DOUBLE PRECISION",
            # Byte order, as SQLite compares text: ties break the same way on both engines.
            "c": ' COLLATE "C"',
            "epoch_s": lambda t: f"CAST(FLOOR(EXTRACT(EPOCH FROM {t})) AS BIGINT)",
            "add_days": lambda t, n: f"({t} + INTERVAL '{int(n)} days')",
            "seconds_between": lambda a, b: (
                f"CAST(ROUND(EXTRACT(EPOCH FROM ({b} - {a})), 3) AS DOUBLE PRECISION)"
            ),
        }
        page_id = "wp.data->>'id'" if as_json else "wp.id"
        empty = (
            "(SELECT CAST(NULL AS UUID) AS root_id, CAST(NULL AS TIMESTAMP) AS root_tstamp,"
            " CAST(NULL AS TEXT) AS page_view_id WHERE 1 = 0)"
        )
    else:
        out |= {
            "timestamp": "TEXT",
            "bigint": "INTEGER",
            "double": "REAL",
            "c": "",
            "epoch_s": lambda t: f"CAST(strftime('%s', {t}) AS INTEGER)",
            # The enriched form (yyyy-MM-dd HH:mm:ss.SSS), which compares as time.
            "add_days": lambda t, n: f"strftime('%Y-%m-%d %H:%M:%f', {t}, '+{int(n)} days')",
            # julianday is a double: rounding to the millisecond removes its noise.
            "seconds_between": lambda a, b: (
                f"ROUND((julianday({b}) - julianday({a})) * 86400.0, 3)"
            ),
        }
        page_id = "json_extract(wp.data, '$.id')" if as_json else "wp.id"
        empty = "(SELECT NULL AS root_id, NULL AS root_tstamp, NULL AS page_view_id WHERE 1 = 0)"
    # Sort keys over many columns (ties broken the same way on both engines): NULL after
    # every value (PostgreSQL's default, SQLite's opposite), text in byte order.
    collate = out["c"]
    assert isinstance(collate, str)
    out["keys"] = lambda *cols: ", ".join(f"({c} IS NULL), {c}" for c in cols)
    out["text_keys"] = lambda *cols: ", ".join(f"({c} IS NULL), {c}{collate}" for c in cols)
    # The app_id filter: SQL string literals (quotes doubled; config refuses NULs).
    if config.app_ids:
        listed = ", ".join("'" + a.replace("'", "''") + "'" for a in sorted(set(config.app_ids)))
        out["app_filter"] = f"e.app_id IN ({listed})"
    else:
        out["app_filter"] = "1 = 1"
    add_days = out["add_days"]
    assert callable(add_days)
    out["late_cutoff"] = lambda t: add_days(t, str(config.days_late_allowed))
    # The bot filter: constant patterns (config.BOT_PATTERNS), case-sensitive on both engines
    # (SQLite's LIKE is not: instr and strpos are).
    find = "strpos" if dialect == "postgres" else "instr"
    if config.bot_filter:
        hits = " OR ".join(f"{find}(e.useragent, '{p}') > 0" for p in BOT_PATTERNS)
        out["bot_filter"] = f"(e.useragent IS NOT NULL AND e.useragent <> '' AND NOT ({hits}))"
    else:
        out["bot_filter"] = "1 = 1"
    # Built from constants only (the table name and the id expression above).
    source = "(SELECT wp.root_id, wp.root_tstamp, {} AS page_view_id FROM atomic.{} AS wp)"
    out["web_page"] = source.format(page_id, WEB_PAGE_TABLE) if web_page_exists else empty
    return out

"""The model tables as plain, engine-neutral values (for tests, fixtures and comparisons)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from plowline.models.engines import Engine, format_tstamp

TABLES = {
    "page_views": "page_view_id",
    "sessions": "domain_sessionid",
    "users": "domain_userid",
}
Snapshot = dict[str, list[dict[str, Any]]]


def plain(value: Any) -> Any:
    """Timestamps as the enriched-event text form, numbers rounded to the millisecond."""
    if isinstance(value, datetime):
        return format_tstamp(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        rounded = round(value, 3)
        return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
    return value


def snapshot(engine: Engine) -> Snapshot:
    out: Snapshot = {}
    for table, key in TABLES.items():
        names, rows = engine.query(
            f"SELECT * FROM derived.{table} ORDER BY {key}"  # noqa: S608 - fixed names
        )
        records = [dict(zip(names, (plain(v) for v in row), strict=True)) for row in rows]
        out[table] = sorted(records, key=lambda r: str(r[key]))
    return out

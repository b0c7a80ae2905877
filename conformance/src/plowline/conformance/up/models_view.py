"""Sessions and page views from plowline-models, when that package is installed.

The web model runs on the embedded store (its `atomic.events`), writing its tables to a
`<store>.derived.sqlite` file beside it; the UI asks for a refresh every few seconds.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

_ROWS = 200
_SESSION_COLUMNS = (
    "domain_sessionid", "domain_userid", "start_tstamp", "end_tstamp", "page_views",
    "engaged_time_in_s", "first_page_url", "last_page_url", "referrer",
)  # fmt: skip


def models_available() -> str | None:
    """None when plowline.models can be used, else why not."""
    try:
        spec = importlib.util.find_spec("plowline.models.runner")
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return "the sessions and page views view needs plowline-models (not installed)"
    return None


class ModelsView:
    def __init__(self, store_path: Path) -> None:
        self.store_path = store_path
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, Any]:
        missing = models_available()
        if missing is not None:
            return {"available": False, "reason": missing}
        from plowline.models.engines import ModelError, SqliteEngine
        from plowline.models.runner import run

        with self._lock:
            try:
                engine = SqliteEngine(self.store_path)
            except ModelError as exc:
                return {"available": False, "reason": str(exc)}
            try:
                report = run(engine, full_refresh=True)
                sessions = _table(engine, "derived.sessions")
                page_views = _table(engine, "derived.page_views")
            except Exception as exc:  # the model is a view: report, never fail the server
                return {"available": False, "reason": f"model run failed: {exc}"}
            finally:
                engine.close()
        return {
            "available": True,
            "counts": report.counts,
            "sessions": sessions,
            "pageViews": page_views,
        }


def _table(engine: Any, name: str) -> dict[str, Any]:
    columns, rows = engine.query(f"SELECT * FROM {name} LIMIT {_ROWS}")  # noqa: S608 - fixed names
    return {"columns": columns, "rows": [[_plain(v) for v in row] for row in rows]}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)

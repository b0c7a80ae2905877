"""The inspection API: Snowplow Micro's `/micro/...` routes (Micro's Routing.scala) plus our status.

Handlers are plain functions of (method, path, body) returning a response triple, so they can
be tested without a server; ``asgi.py`` wires them to HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from plowline.conformance.up.pipeline import Pipeline
from plowline.conformance.up.store import InspectionStore, OpenReport, QueryError
from plowline.enrich.fields import FIELD_NAMES
from plowline.spec.errors import ResolutionError, SpecError
from plowline.spec.iglu import SchemaKey

JSON: Final = "application/json"
MAX_PAGE_SIZE: Final = 1000
# Request bounds (the OpenAPI document states the same): past them a request is a 400 that
# says which, never a query SQLite cannot run.
MAX_DEPTH: Final = 16  # JSON nesting of a request body; ours are 4 deep at most
MAX_CONTEXTS: Final = 100  # entity filters in POST /micro/good
MAX_FILTERS: Final = 100  # column filters in POST /micro/events
MAX_FILTER_VALUES: Final = 1000  # values over all of them
MAX_BUCKETS: Final = 1000  # POST /micro/timeline
# Timestamps as epoch milliseconds: years 1 to 9999, as ISO-8601 ones can say.
MIN_MS: Final = -62_135_596_800_000
MAX_MS: Final = 253_402_300_799_999


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    content_type: str
    body: bytes


def json_reply(value: Any, status: int = 200) -> Reply:
    return Reply(status, JSON, orjson.dumps(value))


def error(status: int, message: str) -> Reply:
    return json_reply({"error": message}, status)


class BadRequestError(ValueError):
    pass


def _body_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc):
            raise BadRequestError(_too_deep()) from None
        raise BadRequestError(f"request body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequestError("request body must be a JSON object")
    if _depth_over(value, MAX_DEPTH):
        raise BadRequestError(_too_deep())
    return value


def _too_deep() -> str:
    return f"request body is nested deeper than {MAX_DEPTH} levels"


def _depth_over(value: Any, limit: int) -> bool:
    """True when arrays/objects nest deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _opt_str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequestError(f"{name} must be a string")
    return value


def _opt_int(obj: dict[str, Any], name: str, low: int = 0, high: int = 1 << 31) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequestError(f"{name} must be an integer from {low} to {high}")
    return value


def _ms(text: Any, name: str) -> int | None:
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        if not MIN_MS <= text <= MAX_MS:
            raise BadRequestError(
                f"{name} must be an ISO-8601 timestamp or epoch milliseconds from {MIN_MS} to "
                f"{MAX_MS}, got {text}"
            )
        return text
    if not isinstance(text, str):
        raise BadRequestError(f"{name} must be an ISO-8601 timestamp")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"{name} must be an ISO-8601 timestamp, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return int(moment.timestamp() * 1000)
    except (OverflowError, ValueError):
        raise BadRequestError(f"{name} is out of range: {text!r}") from None


class MicroApi:
    def __init__(
        self, store: InspectionStore, pipeline: Pipeline, opened: OpenReport | None = None
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.opened = opened
        self.models: Callable[[], dict[str, Any]] | None = None
        # Records accepted and not yet stored (the server adds the collector's buffers).
        self.backlog: Callable[[], int] = pipeline.queued
        self._routes: dict[str, Callable[[str, bytes], Reply]] = {
            "/micro/all": self.all,
            "/micro/good": self.good,
            "/micro/bad": self.bad,
            "/micro/reset": self.reset,
            "/micro/events": self.events,
            "/micro/timeline": self.timeline,
            "/micro/columns": self.columns,
            "/plowline/status": self.plowline_status,
            "/plowline/models": self.plowline_models,
        }

    def handle(self, method: str, path: str, body: bytes) -> Reply | None:
        """A reply for our routes; None when ``path`` is not an API route."""
        route = self._routes.get(path.rstrip("/") or "/")
        try:
            if route is not None:
                return route(method, body)
            if path.startswith("/micro/iglu/"):
                return self.iglu(method, path)
        except BadRequestError as exc:
            return error(400, str(exc))
        except QueryError as exc:
            return error(400, str(exc))
        return None

    # ---- Micro -------------------------------------------------------------------------------

    def all(self, method: str, body: bytes) -> Reply:
        if method not in ("GET", "POST"):
            return error(405, "use GET or POST")
        return json_reply(self.store.counts())

    def good(self, method: str, body: bytes) -> Reply:
        if method == "GET":
            return Reply(200, JSON, self.store.good())
        if method != "POST":
            return error(405, "use GET or POST")
        filters = _body_object(body)
        contexts = filters.get("contexts") or []
        if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
            raise BadRequestError("contexts must be a list of schema URIs")
        if len(contexts) > MAX_CONTEXTS:
            raise BadRequestError(
                f"contexts has {len(contexts)} entity filters; at most {MAX_CONTEXTS}"
            )
        return Reply(
            200,
            JSON,
            self.store.good(
                event_type=_opt_str(filters, "event_type"),
                schema=_opt_str(filters, "schema"),
                contexts=contexts,
                limit=_opt_int(filters, "limit"),
            ),
        )

    def bad(self, method: str, body: bytes) -> Reply:
        if method == "GET":
            return Reply(200, JSON, self.store.bad())
        if method != "POST":
            return error(405, "use GET or POST")
        filters = _body_object(body)
        return Reply(
            200,
            JSON,
            self.store.bad(
                vendor=_opt_str(filters, "vendor"),
                version=_opt_str(filters, "version"),
                limit=_opt_int(filters, "limit"),
            ),
        )

    def reset(self, method: str, body: bytes) -> Reply:
        if method not in ("GET", "POST"):
            return error(405, "use GET or POST")
        # A cut: every event accepted before this is forgotten, wherever it is by now.
        self.pipeline.reset()
        return json_reply(self.store.counts())

    def iglu(self, method: str, path: str) -> Reply:
        if method != "GET":
            return error(405, "use GET")
        parts = path[len("/micro/iglu/") :].strip("/").split("/")
        if len(parts) != 4:
            return error(400, "expected /micro/iglu/{vendor}/{name}/{format}/{version}")
        try:
            key = SchemaKey.parse("iglu:" + "/".join(parts))
        except SpecError as exc:
            return error(400, str(exc))
        resolver = self.pipeline.ctx.validator
        inner = getattr(resolver, "validator", None)
        try:
            if inner is None:
                raise LookupError("no resolver")
            schema = inner.resolver.lookup(key)
        except ResolutionError as exc:
            value = {}
            for repo, history in exc.lookup_history.items():
                entry = history.to_json(repo)
                entry.pop("repository", None)
                value[repo] = entry
            return json_reply({"value": value}, 404)
        return json_reply(schema)

    def events(self, method: str, body: bytes) -> Reply:
        if method != "POST":
            return error(405, "use POST")
        q = _body_object(body)
        page = _opt_int(q, "page", 1) or 1
        size = _opt_int(q, "pageSize", 1, MAX_PAGE_SIZE) or 50
        raw_filters = q.get("filters") or []
        if not isinstance(raw_filters, list):
            raise BadRequestError("filters must be a list of {column, values}")
        if len(raw_filters) > MAX_FILTERS:
            raise BadRequestError(f"filters has {len(raw_filters)} filters; at most {MAX_FILTERS}")
        filters: list[tuple[str, list[str]]] = []
        total_values = 0
        for f in raw_filters:
            if not isinstance(f, dict) or not isinstance(f.get("column"), str):
                raise BadRequestError("each filter needs a column name")
            values = f.get("values") or []
            if not isinstance(values, list):
                raise BadRequestError("filter values must be a list")
            total_values += len(values)
            if total_values > MAX_FILTER_VALUES:
                raise BadRequestError(
                    f"filters have more than {MAX_FILTER_VALUES} values in all; at most "
                    f"{MAX_FILTER_VALUES}"
                )
            filters.append((f["column"], [str(v) for v in values]))
        valid = q.get("validEvents")
        if valid is not None and not isinstance(valid, bool):
            raise BadRequestError("validEvents must be true, false or null")
        time_range = q.get("timeRange") or {}
        if not isinstance(time_range, dict):
            raise BadRequestError("timeRange must be an object {start, end}")
        sorting = q.get("sorting") or {}
        if not isinstance(sorting, dict):
            raise BadRequestError("sorting must be an object {column, desc}")
        return json_reply(
            self.store.events(
                page=page,
                page_size=size,
                filters=filters,
                valid=valid,
                start_ms=_ms(time_range.get("start"), "timeRange.start"),
                end_ms=_ms(time_range.get("end"), "timeRange.end"),
                sort_column=_opt_str(sorting, "column"),
                sort_desc=sorting.get("desc", True) is not False,
            )
        )

    def timeline(self, method: str, body: bytes) -> Reply:
        if method != "POST":
            return error(405, "use POST")
        buckets = _body_object(body).get("buckets") or []
        if not isinstance(buckets, list):
            raise BadRequestError("buckets must be a list of {start, end}")
        if len(buckets) > MAX_BUCKETS:
            raise BadRequestError(f"buckets has {len(buckets)} buckets; at most {MAX_BUCKETS}")
        parsed = []
        for b in buckets:
            if not isinstance(b, dict):
                raise BadRequestError("each bucket is {start, end}")
            start, end = _ms(b.get("start"), "start"), _ms(b.get("end"), "end")
            if start is None or end is None:
                raise BadRequestError("each bucket needs start and end")
            parsed.append((start, end, str(b["start"]), str(b["end"])))
        return json_reply({"points": self.store.timeline(parsed)})

    def columns(self, method: str, body: bytes) -> Reply:
        if method != "GET":
            return error(405, "use GET")
        return json_reply(list(FIELD_NAMES))

    # ---- Plowline additions ------------------------------------------------------------------

    def plowline_status(self, method: str, body: bytes) -> Reply:
        s = self.pipeline.status
        opened = self.opened
        return json_reply(
            {
                "counts": self.store.counts(),
                "store": {
                    "path": str(self.store.path),
                    "temporary": self.store.temporary,
                    "movedAside": str(opened.moved_aside)
                    if opened and opened.moved_aside
                    else None,
                    "reason": opened.reason if opened else None,
                },
                "schemas": {
                    "folders": [str(d) for d in self.pipeline.schema_dirs],
                    "loaded": s.schemas_loaded,
                    "problems": [p.to_json() for p in s.schema_problems],
                    "generation": s.schema_generation,
                    "lastReload": s.last_reload,
                },
                "enrichments": s.enrichments,
                "processedRecords": s.processed_records,
                "queuedRecords": self.backlog(),
                "journalRecords": self.store.journal_size(),
                "unloadedBatches": self.store.unloaded_size(),
                "loaderRefusals": self.store.loader_refusals(),
            }
        )

    def plowline_models(self, method: str, body: bytes) -> Reply:
        if self.models is None:
            return json_reply({"available": False, "reason": "models view not configured"})
        return json_reply(self.models())

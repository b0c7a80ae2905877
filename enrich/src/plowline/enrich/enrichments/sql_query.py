"""SQL query enrichment: a parameterised PostgreSQL query per event -> derived contexts.

``?`` placeholders (numbered by the inputs' ``placeholder``) are bound as query parameters,
never pasted into the SQL. When an input has no value the query is skipped (Snowplow does the
same). Rows are checked against ``expectedRows`` and become one entity per row (EVERY_ROW) or
one entity holding all rows (ALL_ROWS), with column names converted by ``propertyNames``.
Results are cached (LRU with TTL) per parameter tuple. Errors are enrichment failures unless
``ignoreOnError``. Only PostgreSQL is supported (psycopg 3); MySQL configs are refused.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, Final

import psycopg
from plowline.enrich.enrichments.base import Enrichment, EnrichmentError, EnrichState
from plowline.enrich.enrichments.cache import TtlLru
from plowline.enrich.enrichments.jsonpath import InputSpec
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = (
    "iglu:com.snowplowanalytics.snowplow.enrichments/sql_query_enrichment_config/jsonschema/1-0-1"
)
_TOKENS: Final = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")
_WORDS: Final = re.compile(r"[A-Za-z0-9]+")


def to_psycopg(sql: str) -> tuple[str, int]:
    """``?`` placeholders -> ``%s`` (outside quotes; ``%`` escaped); returns the count."""
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        piece = match.group(0)
        if piece == "?":
            count += 1
            return "%s"
        return "%%" if piece == "%" else piece

    return _TOKENS.sub(swap, sql), count


def _split(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in _WORDS.findall(spaced)]


PROPERTY_NAMES: Final[dict[str, Callable[[str], str]]] = {
    "AS_IS": lambda n: n,
    "LOWER_CASE": str.lower,
    "UPPER_CASE": str.upper,
    "SNAKE_CASE": lambda n: "_".join(_split(n)),
    "CAMEL_CASE": lambda n: (lambda w: w[0] + "".join(x.capitalize() for x in w[1:]) if w else n)(
        _split(n)
    ),
    "PASCAL_CASE": lambda n: "".join(x.capitalize() for x in _split(n)) or n,
}


def json_value(value: Any) -> Any:
    """A database value as JSON (numbers, strings, ISO timestamps...)."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


class SqlQuery(Enrichment):
    name: ClassVar[str] = "sql_query_enrichment_config"

    def __init__(
        self,
        parameters: dict[str, Any],
        connect: Callable[[], psycopg.Connection[Any]] | None = None,
    ) -> None:
        self.config_schema = SCHEMA
        database = parameters["database"]
        if "postgresql" not in database:
            raise ValueError("sql_query: only a postgresql database is supported")
        pg = database["postgresql"]
        self._connect = connect or (lambda: psycopg.connect(
            host=pg["host"], port=pg["port"], user=pg["username"], password=pg["password"],
            dbname=pg["database"], sslmode="require" if pg["sslMode"] else "prefer",
            connect_timeout=10, autocommit=True,
        ))  # fmt: skip
        self.sql, count = to_psycopg(parameters["query"]["sql"])
        self.inputs = {int(spec["placeholder"]): InputSpec(spec) for spec in parameters["inputs"]}
        missing = [i for i in range(1, count + 1) if i not in self.inputs]
        if missing:
            raise ValueError(f"sql_query: no input for placeholder(s) {missing}")
        self.count = count
        output = parameters["output"]
        self.expected = output.get("expectedRows", "AT_LEAST_ZERO")
        self.schema = output["json"]["schema"]
        self.rename = PROPERTY_NAMES[output["json"]["propertyNames"]]
        self.every_row = output["json"]["describes"] == "EVERY_ROW"
        cache = parameters["cache"]
        self.cache: TtlLru[list[dict[str, Any]]] = TtlLru(int(cache["size"]), float(cache["ttl"]))
        self.ignore_on_error = bool(parameters.get("ignoreOnError"))
        self._connection: psycopg.Connection[Any] | None = None

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> SqlQuery:
        return cls(parameters)

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        values = [self.inputs[i].value(event) for i in range(1, self.count + 1)]
        if any(v is None for v in values):
            return
        key = tuple(str(v) for v in values)
        contexts = self.cache.get(key)
        if contexts is None:
            try:
                contexts = self._contexts(self._query(values))
            except EnrichmentError:
                if self.ignore_on_error:
                    return
                raise
            self.cache.put(key, contexts)
        event.derived_contexts.extend({"schema": c["schema"], "data": c["data"]} for c in contexts)

    def _query(self, values: list[Any]) -> list[dict[str, Any]]:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = self._connect()
            with self._connection.cursor() as cursor:
                cursor.execute(self.sql, values)
                names = [self.rename(c.name) for c in cursor.description or []]
                return [dict(zip(names, map(json_value, row), strict=True)) for row in cursor]
        except psycopg.Error as exc:
            if self._connection is not None and self._connection.broken:
                self._connection = None
            raise EnrichmentError(f"sql_query: {str(exc).strip().splitlines()[0]}") from exc

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _contexts(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        n = len(rows)
        ok = {
            "EXACTLY_ONE": n == 1, "AT_MOST_ONE": n <= 1, "AT_LEAST_ONE": n >= 1,
            "AT_LEAST_ZERO": True,
        }[self.expected]  # fmt: skip
        if not ok:
            raise EnrichmentError(f"sql_query: expected {self.expected} row(s), got {n}")
        if self.every_row:
            return [{"schema": self.schema, "data": row} for row in rows]
        return [{"schema": self.schema, "data": rows}] if rows else []

"""SQL query enrichment against a real PostgreSQL (conformance services plugin)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.sql_query import SqlQuery
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request

COOKIE = "iglu:org.ietf/http_cookie/jsonschema/1-0-0"


def parameters(db: Any, sql: str, expected: str = "AT_MOST_ONE", describes: str = "EVERY_ROW",
               **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "inputs": [{"placeholder": 1, "pojo": {"field": "user_id"}}],
        "database": {"postgresql": {"host": db.host, "port": db.port, "sslMode": False,
                                    "username": db.user, "password": db.password,
                                    "database": db.dbname}},
        "query": {"sql": sql},
        "output": {"expectedRows": expected,
                   "json": {"schema": COOKIE, "propertyNames": "CAMEL_CASE",
                            "describes": describes}},
        "cache": {"size": 100, "ttl": 60},
        **extra,
    }  # fmt: skip


def run(ctx: EnrichContext, enrichment: SqlQuery, user: str | None) -> list[object]:
    ctx = EnrichContext(ctx.validator, [enrichment], clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)
    query = "e=pv&p=web&tv=t" + (f"&uid={user}" if user else "")
    return list(enrich(payload_from_request("GET", "/i", query), ctx))


@pytest.mark.postgres
def test_sql_query_enrichment(pg_database: Any, ctx: EnrichContext) -> None:
    with psycopg.connect(pg_database.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id text, cookie_name text, cookie_value text)")
        conn.execute("INSERT INTO users VALUES ('alice', 'tier', 'gold'), ('bob', 'tier', 'x'),"
                     " ('bob', 'tier', 'y')")  # fmt: skip
    sql = "SELECT cookie_name AS name, cookie_value AS value FROM users WHERE id = ?"
    enrichment = SqlQuery(parameters(pg_database, sql))
    [event] = run(ctx, enrichment, "alice")
    assert isinstance(event, EnrichedEvent)
    assert event.derived_contexts == [{"schema": COOKIE, "data": {"name": "tier", "value": "gold"}}]
    # cached: still answered after the row is gone
    with psycopg.connect(pg_database.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE id = 'alice'")
    [event] = run(ctx, enrichment, "alice")
    assert isinstance(event, EnrichedEvent)
    assert len(event.derived_contexts) == 1
    # an injection attempt is just a value that matches nothing
    [event] = run(ctx, enrichment, "x%27%20OR%20%271%27%3D%271")
    assert isinstance(event, EnrichedEvent)
    assert event.derived_contexts == []
    # too many rows for AT_MOST_ONE
    [row] = run(ctx, enrichment, "bob")
    assert isinstance(row, BadRow)
    assert row.kind == "enrichment_failures"
    # missing input: the query is skipped
    [event] = run(ctx, enrichment, None)
    assert isinstance(event, EnrichedEvent)
    enrichment.close()


@pytest.mark.postgres
def test_sql_errors(pg_database: Any, ctx: EnrichContext) -> None:
    broken = SqlQuery(parameters(pg_database, "SELECT * FROM missing_table WHERE id = ?"))
    [row] = run(ctx, broken, "alice")
    assert isinstance(row, BadRow)
    assert "missing_table" in row.to_json()
    ignoring = SqlQuery(parameters(pg_database, "SELECT * FROM missing_table WHERE id = ?",
                                   ignoreOnError=True))  # fmt: skip
    [event] = run(ctx, ignoring, "alice")
    assert isinstance(event, EnrichedEvent)
    broken.close()
    ignoring.close()

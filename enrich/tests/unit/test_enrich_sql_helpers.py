"""SQL query enrichment helpers that need no database."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from plowline.enrich.enrichments.sql_query import PROPERTY_NAMES, SqlQuery, json_value, to_psycopg


def test_placeholders_are_bound_not_pasted() -> None:
    assert to_psycopg("SELECT * FROM t WHERE a = ? AND b = '?' AND c LIKE '5%' OR d = ?") == (
        "SELECT * FROM t WHERE a = %s AND b = '?' AND c LIKE '5%' OR d = %s", 2,
    )  # fmt: skip
    assert to_psycopg("SELECT 10 % 3, ?") == ("SELECT 10 %% 3, %s", 1)


@pytest.mark.parametrize(
    ("style", "name", "out"),
    [("CAMEL_CASE", "user_tier_name", "userTierName"), ("PASCAL_CASE", "user_tier", "UserTier"),
     ("SNAKE_CASE", "userTier", "user_tier"), ("LOWER_CASE", "UserTier", "usertier"),
     ("UPPER_CASE", "tier", "TIER"), ("AS_IS", "Tier_x", "Tier_x")],
)  # fmt: skip
def test_property_names(style: str, name: str, out: str) -> None:
    assert PROPERTY_NAMES[style](name) == out


def test_json_values() -> None:
    assert json_value(decimal.Decimal("2")) == 2
    assert json_value(decimal.Decimal("2.5")) == 2.5
    assert json_value(dt.date(2024, 1, 2)) == "2024-01-02"
    assert json_value(b"\x01") == "01"


def test_config_checks() -> None:
    base = {
        "inputs": [{"placeholder": 1, "pojo": {"field": "user_id"}}],
        "database": {"mysql": {"host": "h", "port": 1, "sslMode": False, "username": "u",
                               "password": "", "database": "d"}},
        "query": {"sql": "SELECT ?"},
        "output": {"expectedRows": "AT_MOST_ONE",
                   "json": {"schema": "iglu:a/b/jsonschema/1-0-0", "propertyNames": "AS_IS",
                            "describes": "EVERY_ROW"}},
        "cache": {"size": 1, "ttl": 1},
    }  # fmt: skip
    with pytest.raises(ValueError, match="postgresql"):
        SqlQuery(base)
    base["database"] = {"postgresql": base["database"]["mysql"]}  # type: ignore[index]
    base["query"] = {"sql": "SELECT ?, ?"}
    with pytest.raises(ValueError, match="placeholder"):
        SqlQuery(base)

"""JSONPath as Snowplow's PII, API-request and SQL-query configs write it (Jayway syntax).

Examples from Snowplow's PII enrichment docs and example config: ``$.['clientId', 'userId']``
and ``$.data.['email', 'ip_opt']``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.enrich.enrichments.jsonpath import JsonPathError, compile_path, replace, select

KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
SCALARS = st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none())
DOCS = st.dictionaries(KEYS, SCALARS, max_size=6)


def union(keys: list[str], prefix: str = "$.", spaced: bool = True) -> str:
    sep = ", " if spaced else ","
    return prefix + "[" + sep.join(f"'{k}'" for k in keys) + "]"


def h(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()  # noqa: S324 - a test stand-in hash


@pytest.mark.parametrize(("path", "expected"), [
    ("$.['clientId', 'userId']", ["c1", "u1"]),
    ("$['clientId','userId']", ["c1", "u1"]),
    ("$.data.['email', 'ip_opt']", ["a@b.c", "1.2.3.4"]),
    ("$.data.email", ["a@b.c"]),
    ("$.items[*].sku", ["s1", "s2"]),
    ("$.items[1].sku", ["s2"]),
    ("$.items[-1:].sku", ["s2"]),
    ("$..sku", ["s1", "s2"]),
    ("$.items[?(@.qty > 1)].sku", ["s2"]),
])  # fmt: skip
def test_snowplow_path_forms(path: str, expected: list[Any]) -> None:
    doc = {
        "clientId": "c1", "userId": "u1",
        "data": {"email": "a@b.c", "ip_opt": "1.2.3.4"},
        "items": [{"sku": "s1", "qty": 1}, {"sku": "s2", "qty": 2}],
    }  # fmt: skip
    assert select(doc, compile_path(path)) == expected


def test_union_replace_hashes_exactly_the_named_members() -> None:
    doc = {"data": {"email": "a@b.c", "ip_opt": "1.2.3.4", "keep": "k", "n": 7}}
    out = replace(doc, compile_path("$.data.['email', 'ip_opt', 'n', 'absent']"), h)
    assert out == {"data": {"email": h("a@b.c"), "ip_opt": h("1.2.3.4"), "keep": "k", "n": h("7")}}


@pytest.mark.parametrize("path", ["", "data.email", "$.[", "$.a[", "$.a[?(@.x >]", "$.['a'"])
def test_unparseable_paths_are_refused_at_load(path: str) -> None:
    with pytest.raises(JsonPathError):
        compile_path(path)


@settings(deadline=None)  # parsing a new path is slow on a loaded machine; no timing
@given(DOCS, st.lists(KEYS, min_size=1, max_size=4, unique=True), st.booleans())
def test_union_selects_present_members_in_order(
    doc: dict[str, Any], keys: list[str], spaced: bool
) -> None:
    assert select(doc, compile_path(union(keys, "$.", spaced))) == [
        doc[k] for k in keys if k in doc
    ]
    assert select(doc, compile_path(union(keys, "$", spaced))) == [doc[k] for k in keys if k in doc]


@settings(deadline=None)  # parsing a new path is slow on a loaded machine; no timing
@given(DOCS, st.lists(KEYS, min_size=1, max_size=4, unique=True))
def test_nested_union_replace_touches_only_named_strings_and_numbers(
    inner: dict[str, Any], keys: list[str]
) -> None:
    doc = {"data": dict(inner), "other": dict(inner)}
    out = replace(doc, compile_path(union(keys, "$.data.")), h)
    assert out["other"] == inner
    for key, value in inner.items():
        hashed = key in keys and not isinstance(value, bool) and isinstance(value, str | int)
        assert out["data"][key] == (h(str(value)) if hashed else value)


@settings(deadline=None)  # parsing a new path is slow on a loaded machine; no timing
@given(DOCS)
def test_single_names_agree_with_plain_lookup(doc: dict[str, Any]) -> None:
    for key, value in doc.items():
        assert select(doc, compile_path(f"$['{key}']")) == [value]
        assert select({"data": doc}, compile_path(f"$.data['{key}']")) == [value]

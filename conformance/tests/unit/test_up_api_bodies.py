"""Any request body the /micro API can be sent is answered 2xx or 400 with a reason, never 500
(property tests over the handlers a running `plowline up` serves)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.conformance.up.server import UpServer
from plowline.conformance.up.testing import running

ROUTES = ("/micro/all", "/micro/good", "/micro/bad", "/micro/events", "/micro/timeline")
NAMES = (
    "contexts", "event_type", "schema", "limit", "vendor", "version", "page", "pageSize",
    "filters", "column", "values", "validEvents", "timeRange", "start", "end", "sorting", "desc",
    "buckets", "app_id", "event_name", "collector_tstamp",
)  # fmt: skip

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30])
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["2024-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "0001-01-01", "Z"])
    | st.sampled_from(["iglu:com.acme/x/jsonschema/1-0-0", "app_id", "collector_tstamp"])
)
_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=40,
)
_bodies = st.dictionaries(st.sampled_from(NAMES), _values, max_size=6)
_range = st.fixed_dictionaries({}, optional={"start": _scalars, "end": _scalars})
# The shapes the routes read, with any value where a field goes.
_shaped = st.fixed_dictionaries(
    {},
    optional={
        "timeRange": _range | _values,
        "buckets": st.lists(_range | _values, max_size=4) | _values,
        "filters": st.lists(
            st.fixed_dictionaries({"column": _scalars}, optional={"values": _values}), max_size=4
        )
        | _values,
        "contexts": st.lists(_scalars, max_size=4) | _values,
        "sorting": st.fixed_dictionaries({}, optional={"column": _scalars, "desc": _scalars}),
        "page": _scalars,
        "pageSize": _scalars,
        "limit": _scalars,
        "validEvents": _scalars,
        "event_type": _scalars,
        "schema": _scalars,
        "vendor": _scalars,
        "version": _scalars,
    },
)


@pytest.fixture(scope="module")
def up() -> Iterator[UpServer]:
    with running() as server:
        yield server


def _check(up: UpServer, route: str, body: bytes) -> None:
    reply = up.api.handle("POST", route, body)
    assert reply is not None
    assert reply.status in (200, 400), (route, body[:300], reply.status, reply.body[:300])
    if reply.status == 400:
        assert json.loads(reply.body)["error"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route=st.sampled_from(ROUTES), value=_shaped | _bodies | _values)
def test_any_json_body_is_answered_2xx_or_400(up: UpServer, route: str, value: Any) -> None:
    _check(up, route, json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(route=st.sampled_from(ROUTES), body=st.binary(max_size=200))
def test_any_bytes_are_answered_2xx_or_400(up: UpServer, route: str, body: bytes) -> None:
    _check(up, route, body)


@settings(max_examples=60, deadline=None)
@given(
    route=st.sampled_from(ROUTES),
    depth=st.integers(min_value=1, max_value=200_000),
    opener=st.sampled_from([b"[", b'{"a":', b'{"contexts":', b'{"filters":[']),
)
def test_any_nesting_depth_is_answered_2xx_or_400(
    up: UpServer, route: str, depth: int, opener: bytes
) -> None:
    closer = {b"[": b"]", b'{"a":': b"}", b'{"contexts":': b"}", b'{"filters":[': b"]}"}[opener]
    _check(up, route, opener * depth + b"1" + closer * depth)


@settings(max_examples=60, deadline=None)
@given(
    route=st.sampled_from(("/micro/good", "/micro/events", "/micro/timeline")),
    count=st.integers(min_value=0, max_value=60_000),
)
def test_any_number_of_filters_is_answered_2xx_or_400(up: UpServer, route: str, count: int) -> None:
    body = {
        "/micro/good": {"contexts": ["com.acme/x/jsonschema/1-0-0"] * count},
        "/micro/events": {"filters": [{"column": "app_id", "values": ["a", "b"]}] * count},
        "/micro/timeline": {"buckets": [{"start": 0, "end": 1}] * count},
    }[route]
    _check(up, route, json.dumps(body).encode())

"""Hypothesis properties of SchemaVer ordering, Iglu URI round trips and criterion matching."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st
from plowline.spec.errors import InvalidIgluUriError, InvalidSchemaCriterionError
from plowline.spec.iglu import SchemaCriterion, SchemaKey, SchemaVer

models = st.integers(min_value=1, max_value=10**6)
numbers = st.integers(min_value=0, max_value=10**6)
versions = st.builds(SchemaVer, models, numbers, numbers)
# Few distinct values, so equal versions and long chains show up often.
small_versions = st.builds(
    SchemaVer,
    st.integers(min_value=1, max_value=3),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=3),
)

vendors = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=40)
names = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=40)
keys = st.builds(SchemaKey, vendors, names, names, versions)


@given(small_versions, small_versions)
def test_schemaver_order_is_total_and_antisymmetric(a: SchemaVer, b: SchemaVer) -> None:
    assert (a < b) + (a == b) + (a > b) == 1  # exactly one holds
    assert (a <= b and b <= a) == (a == b)


@given(small_versions, small_versions, small_versions)
def test_schemaver_order_is_transitive(a: SchemaVer, b: SchemaVer, c: SchemaVer) -> None:
    if a <= b and b <= c:
        assert a <= c
    if a < b and b < c:
        assert a < c


@given(versions, versions)
def test_schemaver_order_is_the_tuple_order(a: SchemaVer, b: SchemaVer) -> None:
    assert (a < b) == (a.as_tuple() < b.as_tuple())
    assert (a == b) == (a.as_tuple() == b.as_tuple())
    assert sorted([a, b]) == sorted([b, a])


@given(versions)
def test_schemaver_text_round_trip(version: SchemaVer) -> None:
    assert SchemaVer.parse(str(version)) == version


@given(keys)
def test_uri_format_then_parse_round_trip(key: SchemaKey) -> None:
    parsed = SchemaKey.parse(key.uri)
    assert parsed == key
    assert parsed.uri == key.uri
    assert hash(parsed) == hash(key)


@given(st.text(max_size=80))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        key = SchemaKey.parse(text)
    except InvalidIgluUriError as exc:
        reason = exc.reason
        assert reason
    else:
        assert key.uri == text  # whatever is accepted is canonical already


@given(st.text(alphabet="iglu:/-*.0123456789abc", max_size=40))
def test_criterion_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        criterion = SchemaCriterion.parse(text)
    except InvalidSchemaCriterionError as exc:
        reason = exc.reason
        assert reason
    else:
        assert str(criterion) == text


@given(keys, st.booleans(), st.booleans(), st.booleans())
def test_criterion_with_wildcards_matches_its_key(
    key: SchemaKey, any_model: bool, any_revision: bool, any_addition: bool
) -> None:
    v = key.version
    criterion = SchemaCriterion(
        key.vendor,
        key.name,
        key.format,
        None if any_model else v.model,
        None if any_revision else v.revision,
        None if any_addition else v.addition,
    )
    assert criterion.matches(key)
    assert SchemaCriterion.parse(str(criterion)) == criterion


@given(keys, keys)
def test_exact_criterion_matches_only_equal_keys(a: SchemaKey, b: SchemaKey) -> None:
    v = a.version
    exact = SchemaCriterion(a.vendor, a.name, a.format, v.model, v.revision, v.addition)
    assert exact.matches(b) == (a == b)

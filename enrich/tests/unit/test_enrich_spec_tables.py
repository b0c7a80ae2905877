"""enrich's hard-coded tables agree with the machine-readable spec (protocol, enriched)."""

from __future__ import annotations

from plowline.enrich.fields import FIELD_KINDS, FIELD_NAMES, MAX_LENGTHS
from plowline.enrich.transform import EVENT_TYPES, PLATFORMS, TRANSFORMS
from plowline.spec import tables

# Parameters the pipeline handles outside the simple param -> field transforms.
HANDLED_ELSEWHERE = {"tnuid", "co", "cx", "ue_pr", "ue_px"}


def test_every_mapped_parameter_sets_the_spec_field() -> None:
    for parameter in tables.parameters():
        if not parameter.fields or parameter.name in HANDLED_ELSEWHERE:
            continue
        assert parameter.name in TRANSFORMS, parameter.name
        assert TRANSFORMS[parameter.name][0] in parameter.fields, parameter.name


def test_field_order_and_length_limits() -> None:
    fields = tables.enriched_fields()
    assert tuple(f.name for f in fields) == FIELD_NAMES
    for field in fields:
        assert MAX_LENGTHS.get(field.name) == field.length_limit, field.name
    assert set(FIELD_KINDS) == set(FIELD_NAMES)


def test_event_types_and_platforms() -> None:
    assert {t.code for t in tables.event_types()} == set(EVENT_TYPES)
    assert "web" in PLATFORMS


def test_fixed_event_schemas() -> None:
    from plowline.enrich.pipeline import _FIXED_SCHEMAS

    for event_type in tables.event_types():
        expected = _FIXED_SCHEMAS.get(event_type.event)
        if event_type.vendor is None or event_type.event == "unstruct":
            continue
        if event_type.event == "ad_impression":
            assert expected is None  # no schema: enrichment failure, as in enrich
            continue
        assert expected == (
            event_type.vendor,
            event_type.name,
            event_type.format,
            event_type.version,
        ), event_type.code

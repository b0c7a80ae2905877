"""The tracker case corpus: sane, big enough, and covering what the suite promises."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.conformance.harness.cases import load_case, load_cases, matches
from plowline.conformance.harness.checks import check_cases
from plowline.conformance.harness.errors import FileProblemsError
from plowline.conformance.harness.matrix import capability_names
from plowline.conformance.harness.paths import cases_root


def test_corpus_has_no_problems() -> None:
    count, problems = check_cases()
    assert problems == []
    assert count >= 80


def test_groups_and_counts() -> None:
    groups = Counter(c.group for c in load_cases())
    for group in ("events", "subject", "contexts", "encoding", "transport", "batching", "retry",
                  "persistence", "ids", "timestamps", "unicode-size", "validation"):  # fmt: skip
        assert groups[group] >= 2, group


def test_every_capability_is_exercised() -> None:
    needed = {c for case in load_cases() for c in case.requires}
    declared = {name for _, name in capability_names()}
    assert declared <= needed, sorted(declared - needed)


def test_every_tracker_vector_is_used() -> None:
    from plowline.spec.data import data_path

    vectors = {p.stem for p in data_path("vectors", "tracker").glob("*.yaml")}
    used = {c.vector for c in load_cases()} | {
        s["track_vector"] for c in load_cases() for s in c.steps if "track_vector" in s
    }
    assert vectors <= used, sorted(vectors - used)


def test_keyword_filter() -> None:
    retry = load_cases(keyword="retry")
    assert retry
    assert all("retry" in f"{c.group}/{c.id}" for c in retry)
    assert not any(c.group == "retry" for c in load_cases(keyword="not retry"))
    (case,) = load_cases(keyword="retry-on-503")
    assert matches(case, "retry 503")


def _copy_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "cases"
    shutil.copytree(cases_root() / "tracker" / "events", root / "tracker" / "events")
    return root


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.update(id="other-id"), "differs from the file name"),
        (lambda d: d.update(requires=["get"]), "requires must also list"),
        (lambda d: d.update(requires=["get", "teleport"]), "unknown capability"),
        (lambda d: d.update(covers=["parameters#nope"]), "no such parameters entry"),
        (lambda d: d.update(covers=["schemas#a/b/1-0-0"]), "no such schema"),
        (lambda d: d.update(group="retry"), "folder"),
        (lambda d: d.update(vector="tracker-no-such-vector"), "not in spec/vectors"),
        (lambda d: d.update(expect={"events": [{"params": {"zz": "1"}}]}), "unknown parameter"),
        (lambda d: d.update(extra=1), "Additional properties"),
    ],
)
def test_check_cases_finds_broken_cases(tmp_path: Path, edit: object, problem: str) -> None:
    root = _copy_corpus(tmp_path)
    path = root / "tracker" / "events" / "page-view-get.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    _, problems = check_cases(root=root)
    assert any(problem in p for p in problems), problems


def test_malformed_event_is_found(tmp_path: Path) -> None:
    root = _copy_corpus(tmp_path)
    path = root / "tracker" / "events" / "add-to-cart-get.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    del doc["steps"][0]["track"]["event"]["sku"]
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    _, problems = check_cases(root=root)
    assert any("add-to-cart-get.yaml: step 0 event" in p for p in problems), problems


def test_duplicate_ids_are_found(tmp_path: Path) -> None:
    root = _copy_corpus(tmp_path)
    (root / "tracker" / "events" / "sub").mkdir()
    shutil.copy(
        root / "tracker" / "events" / "page-view-get.yaml", root / "tracker" / "events" / "sub"
    )
    _, problems = check_cases(root=root)
    assert any("is also used by" in p for p in problems), problems


def test_empty_corpus_is_a_problem(tmp_path: Path) -> None:
    count, problems = check_cases(root=tmp_path)
    assert count == 0
    assert problems


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    [
        "id",
        "group",
        "description",
        "covers",
        "requires",
        "vector",
        "configure",
        "collector",
        "steps",
        "expect",
    ]
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_KEYS, _JSON, max_size=10) | _JSON)
def test_any_case_document_loads_or_fails_cleanly(tmp_path: Path, doc: object) -> None:
    path = tmp_path / "some-case.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        case = load_case(path)
    except FileProblemsError as error:
        problems = error.problems
    else:
        problems = [case.id]
    assert problems

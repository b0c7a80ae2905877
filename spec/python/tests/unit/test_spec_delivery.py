"""spec/delivery/rules.yaml: loading, validation, and the generated tracker constants."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from plowline.spec import checks, generate
from plowline.spec.data import data_root
from plowline.spec.delivery import delivery_rules
from plowline.spec.errors import SpecError


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    shutil.copytree(data_root(), tmp_path / "spec", ignore=shutil.ignore_patterns("python"))
    return tmp_path / "spec"


def test_rules_are_snowplows_default_give_up_set() -> None:
    rules = delivery_rules()
    assert rules.give_up_statuses == (400, 401, 403, 410, 422)
    assert [rules.outcome(s) for s in (200, 299, 302, 404, 408, 425, 429, 500, 0)] == [
        "delivered",
        "delivered",
        "retry",
        "retry",
        "retry",
        "retry",
        "retry",
        "retry",
        "retry",
    ]
    assert rules.initial_backoff_ms <= rules.max_backoff_ms


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(success={"min": 200, "max": 399}), "only 2xx delivers"),
        (lambda d: d.update(give_up_statuses=[422, 400]), "sorted, distinct"),
        (lambda d: d.update(give_up_statuses=[200]), "sorted, distinct"),
        (lambda d: d.update(max_attempts=0), "max_attempts must be a number in [1"),
        (lambda d: d["backoff"].update(max_ms=1), "max_ms must be a number"),
        (lambda d: d["backoff"].update(jitter=2), "jitter must be a number in [0"),
        (lambda d: d["retry_after"].update(honoured="yes"), "honoured must be true or false"),
    ],
)
def test_bad_rules_are_refused_by_the_check(spec: Path, change: object, message: str) -> None:
    path = spec / "delivery" / "rules.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(SpecError, match=message.replace("[", r"\[")):
        delivery_rules(spec)
    assert any(message in p for p in checks.check_tables(spec))


def test_generated_constants_follow_the_rules() -> None:
    rules = delivery_rules()
    python = generate.render_delivery_python(rules)
    typescript = generate.render_delivery_typescript(rules)
    assert "GIVE_UP_STATUSES: Final = frozenset({400, 401, 403, 410, 422})" in python
    assert "INITIAL_BACKOFF_S: Final = 0.25" in python
    assert "new Set([400, 401, 403, 410, 422])" in typescript
    assert f"export const MAX_BACKOFF_MS = {rules.max_backoff_ms};" in typescript


def test_tracker_constants_in_the_checkout_are_in_sync() -> None:
    root = data_root()
    for relative in generate.CODE_OUTPUTS:
        target = root / relative
        if target.parent.is_dir():  # a source checkout
            assert target.read_text(encoding="utf-8") == generate.CODE_OUTPUTS[relative](None)

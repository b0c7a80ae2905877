"""The delivery rules every tracker shares (spec/delivery/rules.yaml), loaded and checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from plowline.spec.data import data_root
from plowline.spec.errors import SpecError

RULES_FILE: Final = Path("delivery", "rules.yaml")


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    """When a request is delivered, retried or given up, and the default back-off."""

    give_up_statuses: tuple[int, ...]
    max_attempts: int
    initial_backoff_ms: int
    backoff_multiplier: float
    max_backoff_ms: int
    jitter: float
    honour_retry_after: bool
    max_retry_after_ms: int

    def outcome(self, status: int) -> str:
        """'delivered', 'give_up' or 'retry' for a response status (0: no response)."""
        if 200 <= status <= 299:
            return "delivered"
        return "give_up" if status in self.give_up_statuses else "retry"


def _number(doc: dict[str, Any], key: str, where: str, *, low: float, high: float) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise SpecError(f"{where}: {key} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def delivery_rules(root: Path | None = None) -> DeliveryRules:
    """Load and validate ``delivery/rules.yaml``; :class:`SpecError` names what is wrong."""
    path = (root if root is not None else data_root()) / RULES_FILE
    where = RULES_FILE.as_posix()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"{where}: cannot be read: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise SpecError(f"{where}: a mapping with version: 1 expected")
    if doc.get("success") != {"min": 200, "max": 299}:
        raise SpecError(f"{where}: success must be {{min: 200, max: 299}} (only 2xx delivers)")
    statuses = doc.get("give_up_statuses")
    if (
        not isinstance(statuses, list)
        or not all(isinstance(s, int) and 300 <= s <= 599 for s in statuses)
        or sorted(set(statuses)) != statuses
    ):
        raise SpecError(f"{where}: give_up_statuses must be sorted, distinct statuses 300-599")
    backoff, retry_after = doc.get("backoff"), doc.get("retry_after")
    if not isinstance(backoff, dict) or not isinstance(retry_after, dict):
        raise SpecError(f"{where}: backoff and retry_after must be mappings")
    if not isinstance(retry_after.get("honoured"), bool):
        raise SpecError(f"{where}: retry_after.honoured must be true or false")
    initial = _number(backoff, "initial_ms", f"{where} backoff", low=0, high=3_600_000)
    cap = _number(backoff, "max_ms", f"{where} backoff", low=initial, high=3_600_000)
    return DeliveryRules(
        give_up_statuses=tuple(statuses),
        max_attempts=int(_number(doc, "max_attempts", where, low=1, high=1000)),
        initial_backoff_ms=int(initial),
        backoff_multiplier=_number(backoff, "multiplier", f"{where} backoff", low=1, high=100),
        max_backoff_ms=int(cap),
        jitter=_number(backoff, "jitter", f"{where} backoff", low=0, high=1),
        honour_retry_after=retry_after["honoured"],
        max_retry_after_ms=int(
            _number(retry_after, "max_ms", f"{where} retry_after", low=0, high=86_400_000)
        ),
    )

"""What a case can come to: a result (passed/failed), skipped or errored, plus strict xfails."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Outcome(Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERRORED = "errored"  # the driver crashed, hung, wrote garbage or broke the protocol
    XFAILED = "xfailed"  # a known failure that failed (or errored), as declared
    XPASSED = "xpassed"  # a known failure that passed: strict, so the run fails

    @property
    def bad(self) -> bool:
        """Whether this outcome makes the run fail."""
        return self in (Outcome.FAILED, Outcome.ERRORED, Outcome.XPASSED)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: str
    group: str
    outcome: Outcome
    message: str = ""
    requires: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()
    duration_ms: int = 0
    details: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "case",
            "case": self.case,
            "group": self.group,
            "outcome": self.outcome.value,
            "message": self.message,
            "details": self.details,
            "requires": list(self.requires),
            "covers": list(self.covers),
            "duration_ms": self.duration_ms,
        }

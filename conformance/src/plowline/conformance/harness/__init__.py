"""The tracker tier of the conformance suite: drivers, the capture collector, cases and reports.

The harness starts a tracker's driver (spec/driver/README.md), owns the collector the tracker
sends to, runs the case corpus (``conformance/cases/tracker``) and judges each case from the
wire it recorded, never from what the driver says.
"""

from __future__ import annotations

from plowline.conformance.harness.cases import Case, load_cases
from plowline.conformance.harness.manifest import Manifest, load_manifest
from plowline.conformance.harness.outcomes import CaseResult, Outcome
from plowline.conformance.harness.runner import RunConfig, run_cases

__all__ = [
    "Case",
    "CaseResult",
    "Manifest",
    "Outcome",
    "RunConfig",
    "load_cases",
    "load_manifest",
    "run_cases",
]

"""Where the case corpus lives: beside this package in a checkout, or where the user says."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

ENV_CASES: Final = "PLOWLINE_CONFORMANCE_CASES"


def cases_root() -> Path:
    """The ``cases/`` folder (holding ``case.schema.json`` and ``tracker/``).

    ``PLOWLINE_CONFORMANCE_CASES`` wins; then a copy packaged beside this module (a wheel built
    with ``cases`` force-included as ``plowline/conformance/harness/cases``); else the
    checkout's ``conformance/cases`` (four levels above this package's folder), the one source
    of truth for an editable install.
    """
    given = os.environ.get(ENV_CASES)
    if given:
        return Path(given)
    packaged = Path(__file__).resolve().parent / "cases"
    if (packaged / "case.schema.json").is_file():
        return packaged
    return Path(__file__).resolve().parents[4] / "cases"


def repo_root() -> Path:
    """The monorepo root in a checkout (parent of ``conformance/``)."""
    return Path(__file__).resolve().parents[5]

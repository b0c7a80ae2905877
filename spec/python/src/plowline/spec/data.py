"""Where the spec data lives: inside the wheel, or in place in a source checkout."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

# Top-level folders of spec/ that every installed copy carries.
DATA_DIRS = ("protocol", "schemas", "enriched", "delivery", "vectors", "driver", "examples")


class SpecDataNotFoundError(RuntimeError):
    """The spec data is neither packaged nor in a source checkout next to this module."""


@cache
def data_root() -> Path:
    """Return the folder holding protocol/, schemas/, enriched/, vectors/, driver/, examples/.

    A built wheel carries a copy at ``plowline/spec/data``. An editable install (``uv sync``)
    has no copy, so the checkout's ``spec/`` folder (three levels above ``src/plowline/spec``)
    is used instead: one source of truth, no generated copy to drift.
    """
    packaged = Path(str(resources.files("plowline.spec"))) / "data"
    if (packaged / "schemas").is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[4]
    if (checkout / "schemas").is_dir() and (checkout / "python").is_dir():
        return checkout
    raise SpecDataNotFoundError(
        f"spec data not found in {packaged} nor in a source checkout at {checkout}"
    )


def data_path(*parts: str) -> Path:
    """Path of a file or folder inside the spec data.

    Example: ``data_path("protocol", "parameters.yaml")``.
    """
    return data_root().joinpath(*parts)

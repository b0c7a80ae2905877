"""JSON Schemas the harness validates against: driver messages (both ways), manifests, cases.

The driver schemas ``$ref`` the vector schema, so all of them go into one ``referencing``
registry. Every validator is built once per process.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator
from plowline.conformance.harness.paths import cases_root
from plowline.spec.data import data_path
from referencing import Registry, Resource

DRIVER_VERSION: Final = "v1"
COMMANDS: Final = ("hello", "configure", "track", "flush", "reset", "stop")


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


@cache
def registry() -> Registry[Any]:
    """Every driver schema and the vector schema, by ``$id``."""
    files = sorted(data_path("driver", DRIVER_VERSION).glob("*.schema.json"))
    files.append(data_path("vectors", "vectors.schema.json"))
    resources = []
    for path in files:
        doc = _load(path)
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


def _validator(path: Path) -> Draft202012Validator:
    schema = _load(path)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry())


@cache
def request_validator(command: str) -> Draft202012Validator:
    """Validator of a request the harness writes (it checks itself, too)."""
    return _validator(data_path("driver", DRIVER_VERSION, f"{command}.request.schema.json"))


@cache
def reply_validator(command: str) -> Draft202012Validator:
    """Validator of the driver's reply to ``command``."""
    return _validator(data_path("driver", DRIVER_VERSION, f"{command}.reply.schema.json"))


@cache
def manifest_validator() -> Draft202012Validator:
    return _validator(data_path("driver", DRIVER_VERSION, "manifest.schema.json"))


@cache
def event_validator() -> Draft202012Validator:
    """A well-formed event (track.request.schema.json ``#/$defs/event``)."""
    track = _load(data_path("driver", DRIVER_VERSION, "track.request.schema.json"))
    return Draft202012Validator({"$ref": f"{track['$id']}#/$defs/event"}, registry=registry())


@cache
def case_validator() -> Draft202012Validator:
    return _validator(cases_root() / "case.schema.json")


def problems(validator: Draft202012Validator, instance: Any) -> list[str]:
    """Readable schema errors, each prefixed with its JSON path (``$`` is the document)."""
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        where = "$" + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
        )
        out.append(f"{where}: {error.message}")
    return out

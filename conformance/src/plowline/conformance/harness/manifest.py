"""The ``driver.yaml`` manifest beside a driver: how to build, check and start it, known failures.

The manifest's schema is ``spec/driver/v1/manifest.schema.json``. Two optional keys are a
harness extension the spec schema does not list yet, so they are taken out before validation
and checked here: ``check`` (argv whose success proves the toolchain is there, e.g.
``["go", "version"]``) and ``build`` (argv run once before the first start). Known failures
come from the manifest and from a ``known-failures.yaml`` file beside it (a list of the same
``{case, reason, issue}`` entries).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from plowline.conformance.harness.errors import DriverStartError, FileProblemsError
from plowline.conformance.harness.schemas import manifest_validator, problems

KNOWN_FAILURES_FILE: Final = "known-failures.yaml"
EXTENSION_KEYS: Final = ("check", "build")
BUILD_TIMEOUT_S: Final = 600.0
CHECK_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class KnownFailure:
    case: str
    reason: str
    issue: str | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """How to start one driver. ``directory`` is the working directory of every command."""

    name: str
    language: str
    command: tuple[str, ...]
    directory: Path
    env: dict[str, str] = field(default_factory=dict)
    known_failures: tuple[KnownFailure, ...] = ()
    check: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    path: Path | None = None

    def argv(self, argv: tuple[str, ...] | None = None) -> list[str]:
        """The argv with ``{python}`` replaced by the harness's own interpreter."""
        return [part.replace("{python}", sys.executable) for part in (argv or self.command)]

    def known_failure(self, case_id: str) -> KnownFailure | None:
        return next((k for k in self.known_failures if k.case == case_id), None)

    def prepare(self) -> None:
        """Run ``check`` then ``build``; :class:`DriverStartError` says which failed and why."""
        for what, argv, timeout in (
            ("toolchain check", self.check, CHECK_TIMEOUT_S),
            ("build", self.build, BUILD_TIMEOUT_S),
        ):
            if not argv:
                continue
            try:
                done = subprocess.run(
                    self.argv(argv),
                    cwd=self.directory,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                raise DriverStartError(
                    f"{self.name}: {what} {list(argv)} failed: {error}"
                ) from error
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip()[-2000:]
                raise DriverStartError(
                    f"{self.name}: {what} {list(argv)} exited {done.returncode}: {tail}"
                )


def _argv(value: Any, key: str, out: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    out.append(f"$.{key}: must be a non-empty list of non-empty strings")
    return ()


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise FileProblemsError(path, [f"cannot read: {error}"]) from error


def _known_failures(entries: Any) -> tuple[KnownFailure, ...]:
    return tuple(
        KnownFailure(case=e["case"], reason=e["reason"], issue=e.get("issue"))
        for e in entries or ()
    )


def load_manifest(path: Path) -> Manifest:
    """Read and validate a manifest (a ``driver.yaml`` file or the folder holding it)."""
    if path.is_dir():
        path = path / "driver.yaml"
    doc = _read_yaml(path)
    if not isinstance(doc, dict):
        raise FileProblemsError(path, ["a manifest is a mapping"])
    found: list[str] = []
    check = _argv(doc.get("check"), "check", found)
    build = _argv(doc.get("build"), "build", found)
    core = {k: v for k, v in doc.items() if k not in EXTENSION_KEYS}
    found += problems(manifest_validator(), core)
    known = core.get("known_failures") or []
    beside = path.parent / KNOWN_FAILURES_FILE
    if beside.is_file():
        extra = _read_yaml(beside) or []
        extra_problems = problems(manifest_validator(), {**core, "known_failures": extra})
        found += [f"{KNOWN_FAILURES_FILE}: {p}" for p in extra_problems]
        if not extra_problems:
            known = [*known, *extra]
    if found:
        raise FileProblemsError(path, found)
    return Manifest(
        name=core["name"],
        language=core["language"],
        command=tuple(core["command"]),
        directory=path.parent.resolve(),
        env=dict(core.get("env") or {}),
        known_failures=_known_failures(known),
        check=check,
        build=build,
        path=path,
    )


def manifest_from_command(command: str, directory: Path | None = None) -> Manifest:
    """A manifest for ``--driver "<command>"``: no build, no known failures."""
    argv = tuple(shlex.split(command))
    if not argv:
        raise DriverStartError("the driver command is empty")
    return Manifest(
        name="driver", language="unknown", command=argv, directory=directory or Path.cwd()
    )

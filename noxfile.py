"""Plowline's one task runner. `nox -l` lists the sessions; `nox -t ci` is what CI runs.

Every session installs the whole uv workspace from the committed lock file into its own
virtualenv, so a session behaves the same on a fresh machine as on a developer's.
"""

from __future__ import annotations

import glob
import os
import shutil
import tomllib
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
PYTHON = "3.11"


def _members() -> dict[str, Path]:
    """Workspace members keyed by component name: the distribution name without 'plowline-'."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found: dict[str, Path] = {}
    for pattern in pyproject["tool"]["uv"]["workspace"]["members"]:
        for path in sorted(glob.glob(str(ROOT / pattern))):
            member = tomllib.loads((Path(path) / "pyproject.toml").read_text())
            name = member["project"]["name"].removeprefix("plowline-")
            found[name] = Path(path).relative_to(ROOT)
    return found


MEMBERS = _members()
# Trackers in compiled languages (Go, Java, Rust) live outside the uv workspace; each has a
# ci.sh (build, lint, unit tests), an optional bench.sh, and an optional driver/build.sh that
# builds its conformance driver.
NATIVE_TRACKERS = sorted(p.parent.name for p in (ROOT / "trackers").glob("*/ci.sh"))
E2E_TESTS = "conformance/tests/integration/test_conformance_e2e.py"


def _sync(session: nox.Session) -> None:
    # Every member, with the native COPY encoder (plowline-storage's optional `native` extra,
    # storage/copytext: built with cargo): CI builds and tests it, and its tests fail under
    # CI=true when it is missing.
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        "--all-packages",
        "--extra",
        "native",
        "--group",
        "dev",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )


def _pytest(session: nox.Session, *args: str) -> None:
    """Run pytest; 'no tests collected' (exit 5) is a failure here, never a silent pass."""
    session.run("pytest", *args, *session.posargs)


@nox.session(python=PYTHON, tags=["ci", "static"])
def lint(session: nox.Session) -> None:
    """Ruff lint and format check over every Python file; the import layering contract."""
    _sync(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # [tool.importlinter] in pyproject.toml: which distribution may import which.
    session.run("lint-imports", "--no-cache")


@nox.session(python=PYTHON, tags=["ci", "static"])
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the sources and tests of every workspace member."""
    _sync(session)
    for member in MEMBERS.values():
        # A Rust extension (storage/copytext) keeps Rust in src/ and its Python stubs in python/.
        rust = (ROOT / member / "Cargo.toml").exists()
        dirs = ("python" if rust else "src", "tests", "benchmarks", "driver", "mutants")
        targets = [str(member / d) for d in dirs if (ROOT / member / d).exists()]
        session.run("mypy", *targets)
    session.run("mypy", "noxfile.py")


@nox.session(python=PYTHON, tags=["ci"])
def spec(session: nox.Session) -> None:
    """Check spec/: schemas vs meta-schemas, vectors vs their schema, tables, generated files."""
    _sync(session)
    session.run("plowline-spec", "check")


# Not in `-t ci`: CI runs every member's unit tests once, installed from its wheel (`wheels`).
@nox.session(python=PYTHON)
@nox.parametrize("component", list(MEMBERS))
def unit(session: nox.Session, component: str) -> None:
    """Unit tests of one workspace member in the workspace venv (no services; loopback only)."""
    _sync(session)
    manifest = ROOT / MEMBERS[component] / "Cargo.toml"
    if manifest.exists():  # a Rust extension: its own Rust unit tests first
        session.run("cargo", "test", "--release", "--manifest-path", str(manifest), external=True)
    _pytest(session, str(MEMBERS[component] / "tests" / "unit"))


@nox.session(python=PYTHON, tags=["ci"])
def integration(session: nox.Session) -> None:
    """Integration tests of every member against real PostgreSQL, Kafka and LocalStack/moto."""
    _sync(session)
    # Idempotent: installs what a fresh machine lacks (Kafka jars, LocalStack venv, PostgreSQL).
    session.run("plowline", "services", "install")
    _ensure_chromium(session)  # browser tests (JS drivers, the `plowline up` UI) run here too
    dirs = [str(m / "tests" / "integration") for m in MEMBERS.values()]
    # The end-to-end conformance tier runs in the `conformance` session, with its reports.
    _pytest(session, *[d for d in dirs if Path(ROOT, d).exists()], f"--ignore={E2E_TESTS}")


# What a distribution's unit tests need beyond its own dependencies (versions from uv.lock).
WHEEL_TEST_TOOLS = ("pytest", "pytest-timeout", "hypothesis", "openapi-spec-validator")
# To-do: unit tests that read the source checkout (trackers/python/driver, mutants/), so cannot
# run against an installed wheel yet; `wheels` runs them in the workspace environment instead.
WHEEL_TODO: dict[str, tuple[str, ...]] = {
    "conformance": (
        "conformance/tests/unit/test_conformance_mutants.py",
        "conformance/tests/unit/test_conformance_python_tracker.py",
    ),
}


@nox.session(python=PYTHON, tags=["ci"])
def wheels(session: nox.Session) -> None:
    """Build every wheel; install each alone in a fresh venv, count its deps, run its unit tests."""
    tmp = Path(session.create_tmp())
    dist = tmp / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("uv", "build", "--all-packages", "--wheel", "--out-dir", str(dist), external=True)
    # Third-party versions come from the lock; plowline-* only from the wheels just built.
    constraints = tmp / "constraints.txt"
    session.run(
        "uv", "export", "--frozen", "--all-packages", "--all-extras", "--group", "dev",
        "--no-emit-workspace", "--no-hashes", "--no-header", "--output-file", str(constraints),
        external=True, silent=True,
    )  # fmt: skip
    counts: dict[str, tuple[int, int]] = {}
    failed: list[str] = []
    for component, member in MEMBERS.items():
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text())
        name = project["project"]["name"]
        venv = tmp / f"venv-{component}"
        session.run("uv", "venv", "-q", "--clear", "--python", PYTHON, str(venv), external=True)
        python = str(venv / "bin" / "python")
        install = (
            "uv", "pip", "install", "--quiet", "--python", python,
            "--find-links", str(dist), "--constraint", str(constraints),
        )  # fmt: skip
        session.run(*install, name, external=True)
        base = _third_party(session, python)
        extras = sorted(project["project"].get("optional-dependencies", {}))
        session.run(*install, f"{name}[{','.join(extras)}]" if extras else name, external=True)
        counts[name] = (base, _third_party(session, python))
        # Test-only: the member's `test` dependency group and the helpers its wheel excludes.
        helpers = project.get("dependency-groups", {}).get("test", [])
        session.run(*install, *WHEEL_TEST_TOOLS, *helpers, external=True)
        site = Path(
            session.run(
                python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                external=True, silent=True,
            ).strip()  # type: ignore[union-attr]
        )  # fmt: skip
        wheel_config = project.get("tool", {}).get("hatch", {}).get("build", {})
        for excluded in wheel_config.get("targets", {}).get("wheel", {}).get("exclude", []):
            source = ROOT / member / excluded
            shutil.copy(source, site / source.relative_to(ROOT / member / "src"))
        manifest = ROOT / member / "Cargo.toml"
        if manifest.exists():  # a Rust extension: its own Rust unit tests first
            cargo = ("cargo", "test", "--release", "--manifest-path", str(manifest))
            session.run(*cargo, external=True)
        ignored = [f"--ignore={path}" for path in WHEEL_TODO.get(component, ())]
        try:
            session.run(
                python, "-m", "pytest", "-p", "no:cacheprovider", str(member / "tests" / "unit"),
                *ignored, *session.posargs, external=True,
            )  # fmt: skip
        except CommandFailed:
            failed.append(name)
    session.log("third-party packages per distribution (alone / with every extra):")
    for name, (base, full) in counts.items():
        session.log(f"  {name:<22} {base:>3} / {full:>3}")
    if failed:
        session.error(f"unit tests fail when installed from the wheel: {failed}")
    if todo := [path for paths in WHEEL_TODO.values() for path in paths]:
        _sync(session)
        _pytest(session, *todo)


def _third_party(session: nox.Session, python: str) -> int:
    """How many distributions installed in a venv are not plowline-*."""
    frozen = session.run("uv", "pip", "freeze", "--python", python, external=True, silent=True)
    # silent=True mixes in stderr ("Using Python ... environment"): count requirement lines only.
    pins = [line for line in str(frozen).splitlines() if "==" in line or " @ " in line]
    return sum(1 for line in pins if not line.startswith("plowline-"))


@nox.session(venv_backend="none", tags=["ci"])
def javascript(session: nox.Session) -> None:
    """JavaScript trackers: npm ci, build, Vitest unit, driver and headless-Chromium tests."""
    _ensure_chromium(session)
    with session.chdir(ROOT / "trackers" / "javascript"):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
        session.run("npm", "run", "build", external=True)
        session.run("npm", "test", external=True, env={"CI": os.environ.get("CI", "")})


if NATIVE_TRACKERS:

    @nox.session(venv_backend="none", tags=["ci"])
    @nox.parametrize("language", NATIVE_TRACKERS)
    def tracker(session: nox.Session, language: str) -> None:
        """A compiled-language tracker (trackers/<language>/ci.sh): build, lint, unit tests."""
        session.run("bash", str(ROOT / "trackers" / language / "ci.sh"), external=True)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: `nox -s bench -- <component>` (e.g. spec, go); prints figures and ratios."""
    _sync(session)
    wanted = session.posargs or [*MEMBERS, *NATIVE_TRACKERS]
    unknown = [c for c in wanted if c not in MEMBERS and c not in NATIVE_TRACKERS]
    if unknown:
        choices = sorted([*MEMBERS, *NATIVE_TRACKERS])
        session.error(f"unknown component(s) {unknown}; choose from {choices}")
    for component in wanted:
        if component in NATIVE_TRACKERS:
            script = ROOT / "trackers" / component / "bench.sh"
            if not script.exists():
                session.error(f"{component} has no bench.sh")
            session.run("bash", str(script), external=True)
            continue
        scripts = sorted((ROOT / MEMBERS[component] / "benchmarks").glob("bench_*.py"))
        if not scripts:
            session.error(f"{component} has no benchmarks/bench_*.py")
        for script in scripts:
            session.run("python", str(script), env={"PYTHONHASHSEED": "0"})


@nox.session(python=PYTHON, tags=["dev"])
def fmt(session: nox.Session) -> None:
    """Apply ruff's fixes and formatting in place (a developer convenience, not a check)."""
    _sync(session)
    session.run("ruff", "check", "--fix", ".")
    session.run("ruff", "format", ".")


def _ensure_chromium(session: nox.Session) -> None:
    """Debian's Chromium for the browser tracker (npm cannot download browsers here)."""
    if Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() != 0:
        session.error("chromium is missing: run `sudo apt-get install -y chromium`")
    session.run("apt-get", "update", "-qq", external=True)
    session.run("apt-get", "install", "-y", "-qq", "chromium", external=True)


def _conformance_drivers() -> dict[str, Path]:
    """Every tracker driver manifest in the repo, by report name (python, javascript-node)."""
    found: dict[str, Path] = {}
    for manifest in sorted((ROOT / "trackers").glob("*/driver/**/driver.yaml")):
        parts = manifest.relative_to(ROOT / "trackers").parent.parts
        found["-".join(p for p in parts if p != "driver")] = manifest
    return found


def _bad_outcomes(report: Path) -> list[str]:
    """Cases of a JSON-lines report that fail the run: failed, errored or xpassed."""
    import json

    bad: list[str] = []
    for line in report.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "case" and record["outcome"] in ("failed", "errored", "xpassed"):
            bad.append(f"{record['case']} ({record['outcome']})")
    return bad


@nox.session(python=PYTHON, tags=["ci"])
def conformance(session: nox.Session) -> None:
    """Tracker tier against every tracker in the repo; reports + matrix in artifacts/conformance."""
    _sync(session)
    drivers = _conformance_drivers()
    if any(name.startswith("javascript") for name in drivers):
        _ensure_chromium(session)
        with session.chdir(ROOT / "trackers" / "javascript"):
            session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
            session.run("npm", "run", "build", external=True)
    for build in sorted((ROOT / "trackers").glob("*/driver/build.sh")):
        session.run("bash", str(build), external=True)  # compiled drivers (Go, Java, Rust)
    out = ROOT / "artifacts" / "conformance"
    out.mkdir(parents=True, exist_ok=True)
    reports: list[Path] = []
    for name, manifest in drivers.items():
        report = out / f"{name}.jsonl"
        report.unlink(missing_ok=True)
        # Exit 1 (cases failed) still leaves full reports: judged below, after the matrix.
        session.run(
            "plowline", "conformance", "run", "--manifest", str(manifest),
            "--report", str(report), "--junit", str(out / f"{name}.xml"),
            success_codes=[0, 1],
        )  # fmt: skip
        reports.append(report)
    session.run(
        "plowline", "conformance", "matrix", *map(str, reports),
        "--markdown", str(out / "matrix.md"), "--html", str(out / "matrix.html"),
    )  # fmt: skip
    failing = {r.stem: bad for r in reports if (bad := _bad_outcomes(r))}
    # Pipeline tier: real collector -> enrich in process, no driver.
    pipeline = out / "pipeline.jsonl"
    pipeline.unlink(missing_ok=True)
    session.run(
        "plowline", "conformance", "run", "--tier", "pipeline",
        "--report", str(pipeline), "--junit", str(out / "pipeline.xml"),
        success_codes=[0, 1],
    )  # fmt: skip
    if bad := _bad_outcomes(pipeline):
        failing["pipeline"] = bad
    if failing:
        session.error(f"conformance failures (non-xfail): {failing}")
    # End-to-end tier: needs real Kafka, PostgreSQL and LocalStack (started by the plugin).
    session.run("plowline", "services", "install")
    _pytest(session, E2E_TESTS, f"--junitxml={out / 'e2e.xml'}")


@nox.session(python=PYTHON)
def mutation(session: nox.Session) -> None:
    """Tracker tier against each mutant of the Python tracker; fails below a 100% kill score."""
    _sync(session)
    session.run(
        "python", str(ROOT / "conformance" / "mutants" / "mutation.py"),
        "--report-dir", str(ROOT / "artifacts" / "mutation"), *session.posargs,
    )  # fmt: skip


if os.environ.get("CI") == "true":
    # Never reuse a virtualenv a previous job may have left half-built.
    nox.options.reuse_existing_virtualenvs = False

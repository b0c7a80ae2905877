"""The model's SQL files: lookup with per-dialect overrides, macro expansion, splitting.

`sql/<name>.sql` is shared by both engines; `sql/<dialect>/<name>.sql`, when present, replaces
it for that dialect. Inside a file, `{{name}}` or `{{name(arg, ...)}}` is a dialect macro
(see dialects.py); nothing else is templated, so each file reads as the SQL it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"
_MACRO = re.compile(r"\{\{\s*(\w+)\s*(?:\(([^(){}]*)\))?\s*\}\}")

Macro = str | Callable[..., str]


class SqlFileError(LookupError):
    """A SQL file or macro the model needs does not exist."""


def path_of(name: str, dialect: str) -> Path:
    for candidate in (SQL_DIR / dialect / f"{name}.sql", SQL_DIR / f"{name}.sql"):
        if candidate.is_file():
            return candidate
    raise SqlFileError(f"no SQL file {name!r} for dialect {dialect!r}")


def expand(text: str, macros: Mapping[str, Macro]) -> str:
    def one(match: re.Match[str]) -> str:
        name, args = match.group(1), match.group(2)
        if name not in macros:
            raise SqlFileError(f"unknown SQL macro {{{{{name}}}}}")
        macro = macros[name]
        if isinstance(macro, str):
            if args is not None:
                raise SqlFileError(f"SQL macro {name} takes no arguments")
            return macro
        return macro(*(a.strip() for a in (args or "").split(",") if a.strip()))

    return _MACRO.sub(one, text)


def split(text: str) -> list[str]:
    """Statements of a file: each ends with ';' at the end of a line (comments dropped)."""
    statements: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().removesuffix(";").strip()
            if statement:
                statements.append(statement)
            current = []
    rest = "\n".join(current).strip()
    if rest:
        statements.append(rest)
    return statements


def statements(name: str, dialect: str, macros: Mapping[str, Macro]) -> list[str]:
    return split(expand(path_of(name, dialect).read_text(encoding="utf-8"), macros))


def data_tests(dialect: str) -> list[tuple[str, str]]:
    """(name, query) of every data test; each query counts the rows that break its rule."""
    found = sorted((SQL_DIR / "tests").glob("*.sql"))
    out: list[tuple[str, str]] = []
    for path in found:
        override = SQL_DIR / dialect / "tests" / path.name
        text = (override if override.is_file() else path).read_text(encoding="utf-8")
        out.append((path.stem, split(text)[0]))
    return out

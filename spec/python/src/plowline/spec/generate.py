"""Generate the Markdown tables of the spec, and the enriched-field module, from its YAML.

``python -m plowline.spec.generate`` rewrites every generated file; ``--check`` only reports
drift (exit 1). :func:`check` returns the drift problems as readable strings, empty when the
files are in sync; ``plowline-spec check`` runs it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final

from plowline.spec.data import data_root
from plowline.spec.delivery import RULES_FILE, DeliveryRules, delivery_rules
from plowline.spec.tables import (
    FIELDS_FILE,
    PARAMETERS_FILE,
    EnrichedField,
    Parameter,
    enriched_fields,
    protocol,
)

REGENERATE: Final = "uv run python -m plowline.spec.generate"

# Section titles of parameters.md, in the order they are written.
GROUP_TITLES: Final = {
    "event": "Event",
    "timestamp": "Timestamps",
    "application": "Application and tracker",
    "identity": "Identity",
    "device": "Device and browser",
    "browser_features": "Browser features (deprecated)",
    "page": "Page",
    "self_describing": "Self-describing JSON (entities and events)",
    "structured": "Structured event",
    "page_ping": "Page ping",
    "transaction": "Ecommerce transaction",
    "transaction_item": "Ecommerce transaction item",
    "querystring_only": "Querystring only",
    "ignored": "Accepted but ignored",
}


def _header(source: Path) -> list[str]:
    return [
        f"<!-- GENERATED from {source.as_posix()} by plowline.spec.generate: do not edit. -->",
        f"<!-- Regenerate with: {REGENERATE} -->",
        "",
    ]


def _cell(value: object) -> str:
    """One Markdown table cell: pipes escaped, line breaks folded."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("|", "\\|").split())


def _code(values: Iterable[str]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_parameters(root: Path | None = None) -> str:
    """Text of ``protocol/parameters.md`` for the current ``parameters.yaml``."""
    proto = protocol(root)
    lines = _header(Path(PARAMETERS_FILE.name))
    lines += [
        "# Tracker protocol parameters",
        "",
        f"{len(proto.parameters)} parameters. A tracker sends them as a GET querystring or as the",
        "items of a POST body (`payload_data` self-describing JSON); every value is a string.",
        "`since` is the `payload_data` version that first declares the parameter; a parameter",
        "without one can only arrive in a querystring.",
        "",
        "## Event types (`e`)",
        "",
    ]
    lines += _table(
        ["code", "event", "schema set by enrich", "legacy", "description"],
        (
            (
                f"`{e.code}`",
                f"`{e.event}`",
                f"`{e.schema_uri}`" if e.schema_uri else "—",
                "yes" if e.legacy else "",
                e.description,
            )
            for e in proto.event_types
        ),
    )
    lines += ["", "## Parse rules", ""]
    lines += _table(["type", "rule"], ((f"`{k}`", v) for k, v in proto.types.items()))
    groups: dict[str, list[Parameter]] = {}
    for p in proto.parameters:
        groups.setdefault(p.group, []).append(p)
    for group, params in groups.items():
        lines += ["", f"## {GROUP_TITLES.get(group, group)}", ""]
        lines += _table(
            [
                "param",
                "enriched field(s)",
                "type",
                "max",
                "event types",
                "requirement",
                "since",
                "description",
            ],
            (_parameter_row(p) for p in params),
        )
    return "\n".join(lines) + "\n"


def _parameter_row(p: Parameter) -> list[object]:
    description = p.description
    if p.alias_of:
        description += f" Alias of `{p.alias_of}`."
    if p.schema_criterion:
        description += f" Must match `{p.schema_criterion}`."
    if p.remarks:
        description += f" {p.remarks}"
    return [
        f"`{p.name}`",
        _code(p.fields) or "—",
        f"`{p.type}`" + ("" if p.encoding == "plain" else f" ({p.encoding})"),
        p.max_length if p.max_length is not None else "",
        "all" if p.applies_to_all else (", ".join(p.event_types) or "—"),
        p.requirement,
        p.since or "—",
        description,
    ]


def render_fields(root: Path | None = None) -> str:
    """Text of ``enriched/fields.md`` for the current ``fields.yaml``."""
    fields = enriched_fields(root)
    lines = _header(Path(FIELDS_FILE.name))
    lines += [
        "# Enriched event fields",
        "",
        f"{len(fields)} fields, in the order of the tab-separated enriched line. `max` is the",
        "atomic schema limit (enrich's own default in brackets where it differs).",
        "",
    ]
    lines += _table(
        [
            "#",
            "field",
            "type",
            "max",
            "null",
            "analytics SDK",
            "Postgres",
            "params",
            "source",
            "description",
        ],
        (_field_row(f) for f in fields),
    )
    return "\n".join(lines) + "\n"


def _field_row(f: EnrichedField) -> list[object]:
    limit = "" if f.max_length is None else str(f.max_length)
    if f.enrich_limit is not None:
        limit += f" ({f.enrich_limit})"
    source = f.source + (f": {f.enrichment}" if f.enrichment else "")
    description = f.description + (f" {f.remarks}" if f.remarks else "")
    return [
        f.index,
        f"`{f.name}`",
        f.type,
        limit,
        "yes" if f.nullable else "no",
        f.analytics_sdk,
        f.postgres or "—",
        _code(f.params),
        source,
        description,
    ]


def render_delivery_python(rules: DeliveryRules) -> str:
    """The Python tracker's constants (seconds, as its RetryPolicy speaks)."""
    statuses = ", ".join(str(s) for s in rules.give_up_statuses)
    return "\n".join(
        [
            '"""Delivery rules every Plowline tracker shares: when to give up, default back-off.',
            "",
            f"GENERATED from spec/{RULES_FILE.as_posix()} by plowline.spec.generate: do not edit.",
            f"Regenerate with: {REGENERATE}",
            '"""',
            "",
            "from typing import Final",
            "",
            "# Non-2xx statuses that end a request without retry; every other one is retried.",
            f"GIVE_UP_STATUSES: Final = frozenset({{{statuses}}})",
            f"MAX_ATTEMPTS: Final = {rules.max_attempts}",
            f"INITIAL_BACKOFF_S: Final = {rules.initial_backoff_ms / 1000!r}",
            f"BACKOFF_MULTIPLIER: Final = {rules.backoff_multiplier!r}",
            f"MAX_BACKOFF_S: Final = {rules.max_backoff_ms / 1000!r}",
            f"JITTER: Final = {rules.jitter!r}",
            f"HONOUR_RETRY_AFTER: Final = {rules.honour_retry_after!r}",
            f"MAX_RETRY_AFTER_S: Final = {rules.max_retry_after_ms / 1000!r}",
            "",
        ]
    )


def render_delivery_typescript(rules: DeliveryRules) -> str:
    """The TypeScript trackers' constants (milliseconds, as their RetryPolicy speaks)."""
    statuses = ", ".join(str(s) for s in rules.give_up_statuses)
    source = f"spec/{RULES_FILE.as_posix()}"
    return "\n".join(
        [
            "/**",
            " * Delivery rules every Plowline tracker shares: when to give up, default back-off.",
            " *",
            f" * GENERATED from {source} by plowline.spec.generate: do not edit.",
            f" * Regenerate with: {REGENERATE}",
            " */",
            "",
            "/** Non-2xx statuses that end a request without retry; every other one is retried. */",
            f"export const GIVE_UP_STATUSES: ReadonlySet<number> = new Set([{statuses}]);",
            f"export const MAX_ATTEMPTS = {rules.max_attempts};",
            f"export const INITIAL_BACKOFF_MS = {rules.initial_backoff_ms};",
            f"export const BACKOFF_MULTIPLIER = {rules.backoff_multiplier:g};",
            f"export const MAX_BACKOFF_MS = {rules.max_backoff_ms};",
            f"export const JITTER = {rules.jitter:g};",
            f"export const HONOUR_RETRY_AFTER = {'true' if rules.honour_retry_after else 'false'};",
            f"export const MAX_RETRY_AFTER_MS = {rules.max_retry_after_ms};",
            "",
        ]
    )


def _python_literal(value: object) -> str:
    """A Python literal as ruff format writes it (double-quoted strings)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def render_fields_module(root: Path | None = None) -> str:
    """Text of the Python module ``plowline.spec.enriched_fields`` for the current fields.yaml.

    Enrich and the loaders import it on their hot paths instead of parsing YAML at start-up;
    the drift check keeps it equal to its source.
    """
    rows = [
        "    Field("
        + ", ".join(
            _python_literal(v)
            for v in (f.index, f.name, f.type, f.max_length, f.length_limit, f.nullable, f.postgres)
        )
        + "),"
        for f in enriched_fields(root)
    ]
    lines = [
        f'"""The {len(rows)} enriched-event fields in TSV order (Snowplow-compatible).',
        "",
        f"GENERATED from spec/{FIELDS_FILE.as_posix()} by plowline.spec.generate: do not edit.",
        f"Regenerate with: {REGENERATE}",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from typing import Final, Literal",
        "",
        "FieldType = Literal["
        '"string", "int", "decimal", "double", "bool", "timestamp", "uuid", "json"]',
        "",
        "",
        "@dataclass(frozen=True, slots=True)",
        "class Field:",
        '    """One enriched field; fields.yaml says what each key means."""',
        "",
        "    index: int",
        "    name: str",
        "    type: FieldType",
        "    max_length: int | None  # the atomic schema's maxLength",
        "    length_limit: int | None  # enrich's default limit (enrich_limit or max_length)",
        "    nullable: bool",
        "    postgres: str | None  # atomic.events column type; None: shredded into entity tables",
        "",
        "",
        "FIELDS: Final[tuple[Field, ...]] = (",
        *rows,
        ")",
        "FIELD_COUNT: Final = len(FIELDS)",
        "FIELD_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in FIELDS)",
        "FIELD_INDEX: Final[dict[str, int]] = {f.name: f.index for f in FIELDS}",
        "",
    ]
    return "\n".join(lines)


# Generated file (relative to the spec root) -> the function that renders it.
OUTPUTS: Final[dict[Path, Callable[[Path | None], str]]] = {
    PARAMETERS_FILE.with_suffix(".md"): render_parameters,
    FIELDS_FILE.with_suffix(".md"): render_fields,
}
# Generated code in the packages that use it: written and checked only where the package's
# folder exists beside the spec data, i.e. in a source checkout (an installed wheel carries the
# spec module itself, and its spec data has no python/ or ../trackers).
CODE_OUTPUTS: Final[dict[Path, Callable[[Path | None], str]]] = {
    Path("python/src/plowline/spec/enriched_fields.py"): render_fields_module,
    Path("../trackers/python/src/plowline/tracker/emitters/delivery_rules.py"): (
        lambda root: render_delivery_python(delivery_rules(root))
    ),
    Path("../trackers/javascript/packages/tracker-core/src/delivery-rules.ts"): (
        lambda root: render_delivery_typescript(delivery_rules(root))
    ),
}


def _outputs(base: Path) -> dict[Path, Callable[[Path | None], str]]:
    code = {k: v for k, v in CODE_OUTPUTS.items() if (base / k).parent.is_dir()}
    return {**OUTPUTS, **code}


def write(root: Path | None = None) -> list[Path]:
    """Rewrite every generated file whose content changed; return the paths written."""
    base = root if root is not None else data_root()
    written = []
    for relative, render in _outputs(base).items():
        target = base / relative
        text = render(root)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target.resolve())
    return written


def check(root: Path | None = None) -> list[str]:
    """Drift problems between the YAML sources and the generated files (empty: in sync)."""
    base = root if root is not None else data_root()
    problems = []
    for relative, render in _outputs(base).items():
        target = base / relative
        expected = render(root)
        if not target.exists():
            problems.append(f"{target}: missing; generate it with `{REGENERATE}`")
        elif target.read_text(encoding="utf-8") != expected:
            problems.append(
                f"{target}: out of date with its YAML source; regenerate with `{REGENERATE}`"
            )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: rewrite the generated files, or with ``--check`` report drift."""
    parser = argparse.ArgumentParser(prog="python -m plowline.spec.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1)")
    parser.add_argument("--root", type=Path, default=None, help="spec root (default: installed)")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.root)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in write(args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

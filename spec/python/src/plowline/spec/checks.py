"""Consistency checks over the whole spec folder; ``plowline-spec check`` runs :func:`main`.

Every check takes the spec root (the folder holding ``protocol/``, ``schemas/``, ``enriched/``,
``vectors/``) and returns problems as readable strings that start with the file they are about
(relative to the root). No check raises on bad data: a file that cannot be read is a problem.

Rules:

* schemas: every file under ``schemas/`` sits at ``vendor/name/format/version``, is JSON, is a
  valid draft-04 schema, validates against the self-describing meta-schema
  (``com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0``) and has ``self`` equal to its path.
* tables: ``parameters.yaml`` and ``fields.yaml`` parse; fields are 131 in TSV order; parameters
  and fields name each other consistently; payload_data schemas declare exactly the parameters
  whose ``since`` says so.
* vectors: every file validates against ``vectors.schema.json``; ids are unique and equal the
  file stem; every ``covers`` reference resolves; named parameters and fields exist; the
  self-describing JSON a tracker_call expects or a raw_request sends is valid against the
  schemas under ``schemas/`` (invalid_request vectors are exempt: they are meant to fail).
* generated: the Markdown tables equal what :mod:`plowline.spec.generate` writes now.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

from jsonschema import Draft4Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    SchemaError,
    best_match,
)
from plowline.spec import generate
from plowline.spec.data import data_root
from plowline.spec.delivery import delivery_rules
from plowline.spec.errors import SpecError
from plowline.spec.tables import (
    ENRICHED_FIELD_COUNT,
    PAYLOAD_DATA_VERSIONS,
    EnrichedField,
    Parameter,
    enriched_fields,
    parameters,
    parse_yaml,
)
from plowline.spec.vectors import (
    KIND_DIRS,
    SCHEMA_FILE,
    VECTORS_DIR,
    VectorError,
    compile_vector_schema,
    document_problems,
    vector_files,
    vector_validator,
)

SCHEMAS_DIR: Final = Path("schemas")
META_SCHEMA: Final = Path("com.snowplowanalytics.self-desc", "schema", "jsonschema", "1-0-0")
SELF_DESC_URI: Final = (
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
)
BADROWS_VENDOR: Final = "com.snowplowanalytics.snowplow.badrows"
PAYLOAD_DATA: Final = Path("com.snowplowanalytics.snowplow", "payload_data", "jsonschema")
# Fields whose TSV position every reader relies on; a reordering of fields.yaml moves them.
ANCHOR_FIELDS: Final = {
    0: "app_id",
    3: "collector_tstamp",
    6: "event_id",
    52: "contexts",
    58: "unstruct_event",
    122: "derived_contexts",
    130: "true_tstamp",
}
# Files that may sit in vectors/ besides the kind folders.
VECTOR_DOCS: Final = {"FORMAT.md", "README.md", SCHEMA_FILE.name}


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _strip_root(message: str, root: Path) -> str:
    """Loader errors name absolute paths; show them relative to the spec root."""
    return message.replace(f"{root}/", "")


def _load_json(path: Path) -> Any:
    """Strict JSON from a file (see :func:`_parse_json`)."""
    return _parse_json(path.read_text(encoding="utf-8"))


def _parse_json(text: str) -> Any:
    """Strict JSON: duplicate keys and NaN/Infinity are refused."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise ValueError(f"duplicate key {key!r}")
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)


# --- schemas ---------------------------------------------------------------------------------


def check_schemas(root: Path) -> list[str]:
    """Every Iglu schema file: layout, JSON, draft-04, self-desc meta-schema, ``self`` = path."""
    base = root / SCHEMAS_DIR
    if not base.is_dir():
        return [f"{SCHEMAS_DIR}/: missing; no Iglu schemas to check"]
    files = sorted(
        p
        for p in base.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(base).parts)
    )
    files = [p for p in files if not (p.parent == base and p.suffix == ".md")]
    if not files:
        return [f"{SCHEMAS_DIR}/: holds no schema files"]
    problems: list[str] = []
    meta_text = _meta_schema_text(base / META_SCHEMA, root, problems)
    for path in files:
        problems += _schema_file_problems(path, base, root, meta_text)
    return problems


def _meta_schema_text(path: Path, root: Path, problems: list[str]) -> str | None:
    """The meta-schema's text when it is usable, else None (and a problem says why)."""
    if not path.is_file():
        problems.append(
            f"{_rel(path, root)}: missing; schemas cannot be checked against the "
            "self-describing meta-schema"
        )
        return None
    try:
        text = path.read_text(encoding="utf-8")
        _meta_validator(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{_rel(path, root)}: the meta-schema is unusable: {exc}")
        return None
    except SchemaError as exc:
        problems.append(f"{_rel(path, root)}: the meta-schema is not draft-04: {exc.message}")
        return None
    return text


@cache
def _meta_validator(text: str) -> Any:
    meta = _parse_json(text)
    Draft4Validator.check_schema(meta)
    return Draft4Validator(meta)


def _schema_file_problems(path: Path, base: Path, root: Path, meta_text: str | None) -> list[str]:
    where = _rel(path, root)
    parts = path.relative_to(base).parts
    if len(parts) != 4:
        return [f"{where}: not in the Iglu layout vendor/name/format/version"]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{where}: cannot read: {exc}"]
    vendor, name, fmt, version = parts
    expected = {"vendor": vendor, "name": name, "format": fmt, "version": version}
    return [f"{where}: {p}" for p in _schema_text_problems(text, meta_text, expected)]


def _schema_text_problems(
    text: str, meta_text: str | None, expected_self: dict[str, str]
) -> list[str]:
    """Problems of one schema's content (cached: copies of the same files are checked once)."""
    key = tuple(sorted(expected_self.items()))
    return list(_cached_schema_problems(text, meta_text, key))


@cache
def _cached_schema_problems(
    text: str, meta_text: str | None, expected_key: tuple[tuple[str, str], ...]
) -> tuple[str, ...]:
    expected = dict(expected_key)
    try:
        schema = _parse_json(text)
    except ValueError as exc:
        return (f"not valid JSON: {exc}",)
    if not isinstance(schema, dict):
        return ("a schema must be a JSON object",)
    problems = []
    try:
        Draft4Validator.check_schema(schema)
    except SchemaError as exc:
        problems.append(f"not a valid draft-04 JSON Schema: {exc.message}")
    if meta_text is not None:
        meta = _meta_validator(meta_text)
        for err in sorted(meta.iter_errors(schema), key=lambda e: list(map(str, e.path))):
            detail = best_match([err]).message
            path_text = "/".join(map(str, err.absolute_path)) or "(root)"
            problems.append(f"fails the self-describing meta-schema at {path_text}: {detail}")
    if schema.get("self") != expected:
        problems.append(f"'self' is {schema.get('self')!r}, expected {expected!r}")
    if expected["format"] == "jsonschema" and schema.get("$schema") != SELF_DESC_URI:
        problems.append(f"'$schema' must be {SELF_DESC_URI!r}")
    return tuple(problems)


# --- protocol tables -------------------------------------------------------------------------


def check_tables(root: Path) -> list[str]:
    """parameters.yaml, fields.yaml, delivery/rules.yaml: structure, order, cross references."""
    problems: list[str] = []
    params: tuple[Parameter, ...] | None = None
    fields: tuple[EnrichedField, ...] | None = None
    try:
        params = parameters(root)
    except SpecError as exc:
        problems.append(_strip_root(str(exc), root))
    try:
        delivery_rules(root)
    except SpecError as exc:
        problems.append(_strip_root(str(exc), root))
    try:
        fields = enriched_fields(root)
    except SpecError as exc:
        problems.append(_strip_root(str(exc), root))
    if fields is not None:
        problems += _field_order_problems(fields)
    if params is not None and fields is not None:
        problems += _cross_reference_problems(params, fields)
    if params is not None:
        problems += _alias_problems(params)
        problems += _payload_data_problems(params, root)
    return problems


def _field_order_problems(fields: tuple[EnrichedField, ...]) -> list[str]:
    where = "enriched/fields.yaml"
    problems = []
    if len(fields) != ENRICHED_FIELD_COUNT:
        problems.append(
            f"{where}: {len(fields)} fields, the enriched event has {ENRICHED_FIELD_COUNT}"
        )
    for index, name in ANCHOR_FIELDS.items():
        actual = fields[index].name if index < len(fields) else None
        if actual != name:
            problems.append(f"{where}: field {index} must be {name!r}, found {actual!r}")
    return problems


def _cross_reference_problems(
    params: tuple[Parameter, ...], fields: tuple[EnrichedField, ...]
) -> list[str]:
    by_field = {f.name: f for f in fields}
    by_param = {p.name: p for p in params}
    pw, fw = "protocol/parameters.yaml", "enriched/fields.yaml"
    problems = []
    for p in params:
        for name in p.fields:
            field = by_field.get(name)
            if field is None:
                problems.append(f"{pw}: parameter {p.name!r} names unknown enriched field {name!r}")
                continue
            if p.name not in field.params:
                problems.append(f"{fw}: field {name!r} does not list parameter {p.name!r}")
            if p.max_length is not None and field.max_length != p.max_length:
                problems.append(
                    f"{pw}: parameter {p.name!r} max_length {p.max_length} differs from "
                    f"field {name!r} max_length {field.max_length}"
                )
    for f in fields:
        for name in f.params:
            param = by_param.get(name)
            if param is None:
                problems.append(f"{fw}: field {f.name!r} names unknown parameter {name!r}")
            elif f.name not in param.fields:
                problems.append(f"{pw}: parameter {name!r} does not list field {f.name!r}")
    return problems


def _alias_problems(params: tuple[Parameter, ...]) -> list[str]:
    by_name = {p.name: p for p in params}
    problems = []
    for p in params:
        target = by_name.get(p.alias_of) if p.alias_of else None
        if target is not None and (p.fields, p.type) != (target.fields, target.type):
            problems.append(
                f"protocol/parameters.yaml: alias {p.name!r} must set the same fields with the "
                f"same type as {target.name!r}"
            )
    return problems


def _payload_data_problems(params: tuple[Parameter, ...], root: Path) -> list[str]:
    """Each payload_data schema present must declare exactly the parameters that claim it."""
    problems = []
    for version in PAYLOAD_DATA_VERSIONS:
        path = root / SCHEMAS_DIR / PAYLOAD_DATA / version
        if not path.is_file():
            continue  # missing schemas are reported by check_schemas / covers
        try:
            items = _load_json(path)["items"]
            declared = set(items["properties"])
            required = set(items.get("required", ()))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{_rel(path, root)}: cannot read its item properties: {exc!r}")
            continue
        claimed = {p.name for p in params if p.in_payload_data_version(version)}
        where = "protocol/parameters.yaml"
        for name in sorted(claimed - declared):
            problems.append(f"{where}: {name!r} claims payload_data {version}, which lacks it")
        for name in sorted(declared - claimed):
            problems.append(f"{where}: payload_data {version} declares {name!r}; set its since")
        must = {p.name for p in params if p.requirement == "required"}
        if version == PAYLOAD_DATA_VERSIONS[-1] and must != required:
            problems.append(
                f"{where}: required parameters {sorted(must)} differ from payload_data "
                f"{version} required {sorted(required)}"
            )
    return problems


# --- vectors ---------------------------------------------------------------------------------


def check_vectors(root: Path) -> list[str]:
    """Vector files: schema, ids, folders, covers references, named parameters and fields."""
    try:
        vector_validator(root)  # reports a missing or broken schema
        schema_text = (root / SCHEMA_FILE).read_text(encoding="utf-8")
    except VectorError as exc:
        return [_strip_root(str(exc), root)]
    names = _known_names(root)
    have_schemas = _schema_count(root) > 0
    problems: list[str] = []
    seen: dict[str, str] = {}
    unresolved_schemas: list[str] = []
    base = root / VECTORS_DIR
    for path in sorted(base.iterdir()) if base.is_dir() else []:
        if path.is_file() and path.name not in VECTOR_DOCS:
            problems.append(f"{_rel(path, root)}: unexpected file; vectors go in {_kind_dirs()}")
    for kind, folder in KIND_DIRS.items():
        for path in sorted((base / folder).glob("*")) if (base / folder).is_dir() else []:
            if path.suffix != ".yaml":
                problems.append(f"{_rel(path, root)}: vector files end in .yaml")
        if not vector_files(root, kind):
            problems.append(f"{VECTORS_DIR.as_posix()}/{folder}/: holds no {kind} vectors")
    for path in vector_files(root):
        where = _rel(path, root)
        try:
            doc, found = _parsed_vector(
                path.read_text(encoding="utf-8"), path.parent.name, path.stem, schema_text
            )
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{where}: cannot read: {exc}")
            continue
        except SpecError as exc:
            problems.append(f"{where}: {str(exc).removeprefix('vector: ')}")
            continue
        problems += [f"{where}: {p}" for p in found]
        vid = doc.get("id") if isinstance(doc, dict) else None
        if isinstance(vid, str):
            if vid in seen:
                problems.append(f"{where}: id {vid!r} is also used by {seen[vid]}")
            seen[vid] = where
        if found or not isinstance(doc, dict):
            continue
        for ref in doc["covers"]:
            problem = _cover_problem(ref, names, root)
            if problem == "schema":
                unresolved_schemas.append(f"{where}: {ref}")
            elif problem:
                problems.append(f"{where}: covers {ref!r}: {problem}")
        problems += [f"{where}: {p}" for p in _named_entry_problems(doc, names, root, have_schemas)]
        if have_schemas:
            problems += [f"{where}: {p}" for p in _sdj_problems(doc, root)]
    if unresolved_schemas:
        if not have_schemas:
            problems.append(
                f"{SCHEMAS_DIR}/: empty, so {len(unresolved_schemas)} schema reference(s) in "
                "vector covers cannot be resolved"
            )
        else:
            problems += [f"{u}: no such schema under {SCHEMAS_DIR}/" for u in unresolved_schemas]
    return problems


@cache
def _parsed_vector(text: str, folder: str, stem: str, schema_text: str) -> tuple[Any, list[str]]:
    """Parse and schema-check one vector's text (cached by content across spec copies)."""
    doc = parse_yaml(text, "vector")
    validator = compile_vector_schema(schema_text)
    return doc, document_problems(Path(folder, f"{stem}.yaml"), doc, validator)


def _kind_dirs() -> str:
    return ", ".join(f"{d}/" for d in KIND_DIRS.values())


def _schema_count(root: Path) -> int:
    base = root / SCHEMAS_DIR
    return sum(1 for p in base.rglob("*") if p.is_file()) if base.is_dir() else 0


def _known_names(root: Path) -> dict[str, set[str] | None]:
    """Parameter and field names; None when that table cannot be loaded (reported elsewhere)."""
    out: dict[str, set[str] | None] = {}
    loaders: dict[str, Callable[[], set[str]]] = {
        "parameters": lambda: {p.name for p in parameters(root)},
        "enriched": lambda: {f.name for f in enriched_fields(root)},
    }
    for key, load in loaders.items():
        try:
            out[key] = load()
        except SpecError:
            out[key] = None
    return out


def _cover_problem(ref: str, names: dict[str, set[str] | None], root: Path) -> str | None:
    """None when ``ref`` resolves; "schema" for an unknown schema; else a message."""
    prefix, _, target = ref.partition("#")
    if prefix in ("parameters", "enriched"):
        known = names[prefix]
        if known is not None and target not in known:
            kind = "tracker parameter" if prefix == "parameters" else "enriched field"
            return f"no {kind} named {target!r}"
        return None
    if prefix == "badrows":
        folder = root / SCHEMAS_DIR / BADROWS_VENDOR / target / "jsonschema"
        if not folder.is_dir() or not any(folder.iterdir()):
            return "schema"
        return None
    if prefix == "schemas":
        vendor, name, version = target.split("/")
        if not (root / SCHEMAS_DIR / vendor / name / "jsonschema" / version).is_file():
            return "schema"
        return None
    return f"unknown reference kind {prefix!r}"


def _named_entry_problems(
    doc: dict[str, Any], names: dict[str, set[str] | None], root: Path, have_schemas: bool
) -> list[str]:
    """Parameters and fields a vector names must exist; shapes must agree with themselves."""
    params, fields = names["parameters"], names["enriched"]
    problems: list[str] = []
    kind = doc["kind"]
    if kind == "tracker_call":
        expect = doc["expect"]
        wire = expect.get("events", [expect])
        ids = doc["event_ids"] if "event_ids" in doc else [doc["event_id"]]
        if len(ids) != len(wire):
            problems.append(f"{len(ids)} event id(s) for {len(wire)} expected wire event(s)")
        event = doc["event"]
        if event["type"] == "ecommerce_transaction" and len(wire) != 1 + len(
            event.get("items", [])
        ):
            problems.append("a transaction expects one tr event plus one ti event per item")
        if params is not None:
            for w in wire:
                named = [
                    *w["params"],
                    *w.get("decoded", {}),
                    *w.get("present", ()),
                    *w.get("absent", ()),
                ]
                problems += [
                    f"expect names unknown parameter {n!r}" for n in named if n not in params
                ]
    elif kind == "raw_request":
        if fields is not None:
            for event in doc["expect"]["events"]:
                problems += [f"expect names unknown field {n!r}" for n in event if n not in fields]
        if params is not None:
            sent = {key for item in _request_items(doc["request"]) for key in item}
            problems += [f"request sends unknown parameter {n!r}" for n in sorted(sent - params)]
    else:
        expect = doc["expect"]
        if f"/{expect['bad_row']}/" not in expect["schema"]:
            problems.append(f"schema {expect['schema']!r} is not a {expect['bad_row']} schema")
        if have_schemas:
            uri = expect["schema"].removeprefix("iglu:").split("/")
            if not (root / SCHEMAS_DIR / Path(*uri)).is_file():
                problems.append(f"bad-row schema {expect['schema']!r} is not under {SCHEMAS_DIR}/")
    return problems


def _request_items(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The parameter maps of a request: its querystring and each payload_data item."""
    items: list[dict[str, Any]] = [dict(parse_qsl(request["query"], keep_blank_values=True))]
    body = request.get("body")
    if body:
        try:
            doc = json.loads(body)
        except ValueError:
            return items
        data = doc.get("data") if isinstance(doc, dict) else None
        items += [i for i in (data if isinstance(data, list) else []) if isinstance(i, dict)]
    return items


def _decode_base64url(value: str) -> str:
    """Both base64 alphabets, padding optional (as enrich accepts them)."""
    text = value.replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")


def _sdj_problems(doc: dict[str, Any], root: Path) -> list[str]:
    """Self-describing JSON in tracker_call and raw_request vectors must be valid."""
    found: list[tuple[str, Any]] = []
    if doc["kind"] == "tracker_call":
        expect = doc["expect"]
        for wire in expect.get("events", [expect]):
            found += list(wire.get("decoded", {}).items())
    elif doc["kind"] == "raw_request":
        for item in _request_items(doc["request"]):
            for key in ("co", "ue_pr", "cx", "ue_px"):
                if not isinstance(item.get(key), str):
                    continue
                try:
                    text = item[key] if key in ("co", "ue_pr") else _decode_base64url(item[key])
                    found.append((key, json.loads(text)))
                except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
                    found.append((key, exc))
    problems: list[str] = []
    for key, value in found:
        if isinstance(value, Exception):
            problems.append(f"{key} is not JSON: {value}")
        else:
            problems += [f"{key}: {p}" for p in _validate_sdj(value, root, depth=0)]
    return problems


@cache
def _instance_validator(schema_text: str) -> Any:
    """A compiled validator per schema content."""
    schema = _parse_json(schema_text)
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def _validate_sdj(sdj: Any, root: Path, depth: int) -> list[str]:
    """Validate an SDJ against its schema under schemas/, then the SDJs a wrapper holds."""
    if not isinstance(sdj, dict) or not isinstance(sdj.get("schema"), str) or "data" not in sdj:
        return ["not a self-describing JSON"]
    uri = sdj["schema"]
    parts = uri.removeprefix("iglu:").split("/")
    path = (
        root / SCHEMAS_DIR / Path(*parts) if len(parts) == 4 and uri.startswith("iglu:") else None
    )
    if path is None or not path.is_file():
        return [f"{uri}: no such schema under {SCHEMAS_DIR}/"]
    try:
        validator = _instance_validator(path.read_text(encoding="utf-8"))
        problems = [f"{uri}: {e.message}" for e in validator.iter_errors(sdj["data"])]
    except (OSError, UnicodeDecodeError, ValueError, SchemaError) as exc:
        return [f"{uri}: schema unusable: {exc}"]
    name = parts[1]
    if not problems and depth == 0 and name in ("contexts", "unstruct_event"):
        inner = sdj["data"] if isinstance(sdj["data"], list) else [sdj["data"]]
        for entry in inner:
            problems += _validate_sdj(entry, root, depth + 1)
    return problems


# --- generated files -------------------------------------------------------------------------


def check_generated(root: Path) -> list[str]:
    """The generated Markdown tables equal what the generator writes from the YAML now."""
    try:
        return [_strip_root(p, root) for p in generate.check(root)]
    except SpecError as exc:
        return [f"generated files not checked: {_strip_root(str(exc), root)}"]


CHECKS: Final[dict[str, Callable[[Path], list[str]]]] = {
    "schemas": check_schemas,
    "tables": check_tables,
    "vectors": check_vectors,
    "generated": check_generated,
}


def run_all(root: Path | None = None) -> list[str]:
    """Every problem found by every check, in check order (empty: the spec is consistent)."""
    base = root if root is not None else data_root()
    problems: list[str] = []
    for check in CHECKS.values():
        problems += check(base)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Print every problem; exit status 1 when there is any, else 0."""
    parser = argparse.ArgumentParser(
        prog="plowline-spec check", description="Check the spec folder for consistency."
    )
    parser.add_argument("--root", type=Path, default=None, help="spec root (default: installed)")
    args = parser.parse_args(argv)
    root = args.root if args.root is not None else data_root()
    problems = run_all(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    print(f"spec OK: {root}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

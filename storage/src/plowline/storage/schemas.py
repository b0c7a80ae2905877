"""Per-schema tables: names, and columns derived from a JSON Schema (any loader's dialect).

Table name: `<vendor with . and - as _>_<snake_case name>_<model>` (Snowplow's shredded-table
naming). Columns: schema properties flattened with dots (`a.b_c`), required first then
alphabetical; arrays, unions and free-form objects become JSON. Names longer than the
database allows get a hash suffix instead of being silently truncated into collisions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson
from plowline.spec.data import data_path
from plowline.spec.iglu import json_type

_SEP = re.compile(r"[.\-]")
_CAMEL = re.compile(r"([^A-Z_])([A-Z])")
# Permissive on purpose (hostile names must still load safely); NULs no database stores.
_URI = re.compile(r"iglu:([^/\x00]+)/([^/\x00]+)/([^/\x00]+)/([0-9]+)-([0-9]+)-([0-9]+)")
# A number of 19+ digits (JSON numbers follow `:`, `,` or `[`; a bare top-level one is not a
# dict and is re-read below). Scans in ~2.5 us per contexts document, still 3x less than json.
_LONG_NUMBER = re.compile(r"[:,\[][ \t\n\r]*-?[0-9]{19}").search
MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1 bytes


@dataclass(frozen=True, slots=True)
class SchemaRef:
    vendor: str
    name: str
    format: str
    model: int
    revision: int
    addition: int

    @classmethod
    def parse(cls, uri: object) -> SchemaRef | None:
        return _parse_ref(uri) if isinstance(uri, str) else None

    @property
    def version(self) -> str:
        return f"{self.model}-{self.revision}-{self.addition}"

    @property
    def uri(self) -> str:
        return f"iglu:{self.vendor}/{self.name}/{self.format}/{self.version}"

    @property
    def table(self) -> str:
        return table_name(self.vendor, self.name, self.model)


@lru_cache(maxsize=4096)
def _parse_ref(uri: str) -> SchemaRef | None:
    m = _URI.fullmatch(uri)
    if m is None:
        return None
    return SchemaRef(m[1], m[2], m[3], int(m[4]), int(m[5]), int(m[6]))


def snake(name: str) -> str:
    return _CAMEL.sub(r"\1_\2", _SEP.sub("_", name)).lower()


def fit_identifier(name: str, limit: int = MAX_IDENTIFIER) -> str:
    """Drop NULs (no database takes them) and shorten over-long names with a stable hash."""
    name = name.replace("\x00", "")
    if not name:
        return "_"
    if len(name.encode("utf-8")) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    cut = name.encode("utf-8")[: limit - 11].decode("utf-8", errors="ignore")
    return f"{cut}_{digest}"


@lru_cache(maxsize=4096)
def table_name(vendor: str, name: str, model: int) -> str:
    return fit_identifier(f"{_SEP.sub('_', vendor).lower()}_{snake(name)}_{model}")


def second_table_name(vendor: str, name: str, model: int) -> str:
    """The table of a schema whose `table_name` another schema holds already (`foo_bar` and
    `fooBar` both make `..._foo_bar_1`): the same name with a hash of vendor/name appended."""
    digest = hashlib.sha256(f"{vendor}/{name}".encode()).hexdigest()[:8]
    return fit_identifier(f"{table_name(vendor, name, model)}_{digest}")


class SchemaStore(Protocol):
    def lookup(self, ref: SchemaRef) -> Mapping[str, Any] | None: ...


class DirectorySchemas:
    """Schemas in `<root>/<vendor>/<name>/<format>/<version>` folders (spec/schemas layout)."""

    def __init__(self, roots: Sequence[Path] | None = None) -> None:
        self.roots = list(roots) if roots else [data_path("schemas")]
        self._cache: dict[SchemaRef, Mapping[str, Any] | None] = {}

    def lookup(self, ref: SchemaRef) -> Mapping[str, Any] | None:
        if ref in self._cache:
            return self._cache[ref]
        found: Mapping[str, Any] | None = None
        parts = (ref.vendor, ref.name, ref.format, ref.version)
        if all(p and "/" not in p and p not in (".", "..") for p in parts):
            for root in self.roots:
                path = root.joinpath(*parts)
                if path.is_file():
                    try:
                        doc = json.loads(path.read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        continue
                    if isinstance(doc, dict):
                        found = doc
                        break
        self._cache[ref] = found
        return found


# Column kinds, mapped to each dialect's type by the loaders.
KINDS = (
    "text",
    "varchar",
    "integer",
    "bigint",
    "double",
    "boolean",
    "timestamp",
    "date",
    "uuid",
    "json",
)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    path: tuple[str, ...]  # property keys from the data object's root
    kind: str
    length: int | None = None  # varchar only
    nullable: bool = True


META_COLUMNS = (
    "schema_vendor",
    "schema_name",
    "schema_format",
    "schema_version",
    "root_id",
    "root_tstamp",
    "ref_root",
    "ref_tree",
    "ref_parent",
)


def _types(schema: Mapping[str, Any]) -> tuple[set[str], bool]:
    """Non-null JSON types a property may take, and whether it may be null."""
    declared = schema.get("type")
    if isinstance(declared, str):
        types = {declared}
    elif isinstance(declared, list):
        types = {t for t in declared if isinstance(t, str)}
    else:
        types = set()
    if "enum" in schema and isinstance(schema["enum"], list):
        if not types:
            types = {json_type(v) for v in schema["enum"]}
        if None in schema["enum"]:
            types.add("null")
    nullable = "null" in types
    types.discard("null")
    return types, nullable


def _kind(schema: Mapping[str, Any], types: set[str]) -> tuple[str, int | None]:
    if types == {"string"}:
        fmt = schema.get("format")
        if fmt == "date-time":
            return "timestamp", None
        if fmt == "date":
            return "date", None
        if fmt == "uuid":
            return "uuid", None
        max_length = schema.get("maxLength")
        if isinstance(max_length, int) and not isinstance(max_length, bool) and max_length > 0:
            return "varchar", max_length
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and all(isinstance(e, str) for e in enum):
            return "varchar", max(1, *(len(e) for e in enum))
        return "text", None
    if types == {"integer"}:
        low, high = schema.get("minimum"), schema.get("maximum")
        if (
            isinstance(low, int | float)
            and isinstance(high, int | float)
            and low >= -(2**31)
            and high <= 2**31 - 1
        ):
            return "integer", None
        return "bigint", None
    if types in ({"number"}, {"number", "integer"}):
        return "double", None
    if types == {"boolean"}:
        return "boolean", None
    return "json", None  # arrays, objects without properties, unions, untyped


def derive_columns(schema: Mapping[str, Any]) -> list[Column]:
    """Columns of a schema's table (after the meta columns), in table order."""
    found: list[Column] = []
    _walk(schema, (), True, found)
    found.sort(key=lambda c: (c.nullable, c.name))
    used = set(META_COLUMNS)
    out: list[Column] = []
    for c in found:
        name = fit_identifier(c.name)
        if name in used:  # a property named like a meta column, or two names snake-casing alike
            digest = hashlib.sha256(".".join(c.path).encode()).hexdigest()[:8]
            name = fit_identifier(f"{c.name}_{digest}")
        used.add(name)
        out.append(Column(name, c.path, c.kind, c.length, c.nullable))
    return out


def _walk(
    schema: Mapping[str, Any], path: tuple[str, ...], required_chain: bool, out: list[Column]
) -> None:
    props = schema.get("properties")
    if not isinstance(props, dict):
        return
    required = schema.get("required")
    required_set = set(required) if isinstance(required, list) else set()
    for key in sorted(props):
        sub = props[key]
        if not isinstance(sub, dict):
            sub = {}
        types, nullable = _types(sub)
        is_required = required_chain and key in required_set and not nullable
        sub_path = (*path, key)
        if types == {"object"} and isinstance(sub.get("properties"), dict) and sub["properties"]:
            _walk(sub, sub_path, is_required, out)
            continue
        kind, length = _kind(sub, types)
        name = ".".join(snake(p) for p in sub_path)
        out.append(Column(name, sub_path, kind, length, not is_required))


def extract(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


class Entity(NamedTuple):
    """One entity or self-describing event to store in its schema's table (a tuple: cheap)."""

    ref: SchemaRef
    data: Any
    origin: str  # contexts | derived_contexts | unstruct_event


def loads(text: str) -> Any:
    """json.loads, 3x faster on the usual input: orjson first, the stdlib when orjson refuses.

    The fallback keeps the stdlib's exact results and messages for what orjson rejects but
    the stdlib reads (1e400, NaN, lone surrogates) and for bad JSON. 19+ digits in a row go
    to the stdlib too: orjson reads integers over 64 bits as floats, losing digits.
    """
    if _LONG_NUMBER(text) is not None:
        return _stdlib_loads(text)
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _stdlib_loads(text)
    return doc if type(doc) is dict else _stdlib_loads(text)


def _stdlib_loads(text: str) -> Any:
    """json.loads, refusing lone surrogates (`"\\ud800"`): no database stores them."""
    doc = json.loads(text)
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"a string holds a lone surrogate ({exc.reason})") from None
    return doc


def entities_of(contexts: str, unstruct: str, derived: str) -> list[Entity] | str:
    """Entities of one event from its three JSON fields, or why they are unusable."""
    out: list[Entity] = []
    for origin, text in (("contexts", contexts), ("derived_contexts", derived)):
        if not text:
            continue
        try:
            doc = loads(text)
            items = doc["data"]
        except (ValueError, KeyError, TypeError) as exc:
            return f"{origin} is not a contexts document: {exc}"
        if not isinstance(items, list):
            return f"{origin}: data is not an array"
        for item in items:
            ref = SchemaRef.parse(item.get("schema")) if isinstance(item, dict) else None
            if ref is None or not isinstance(item, dict):
                return f"{origin}: an entity without an iglu: schema"
            out.append(Entity(ref, item.get("data"), origin))
    if unstruct:
        try:
            inner = loads(unstruct)["data"]
        except (ValueError, KeyError, TypeError) as exc:
            return f"unstruct_event is not an unstruct_event document: {exc}"
        ref = SchemaRef.parse(inner.get("schema")) if isinstance(inner, dict) else None
        if ref is None or not isinstance(inner, dict):
            return "unstruct_event: no iglu: schema"
        out.append(Entity(ref, inner.get("data"), "unstruct_event"))
    return out


def ref_tree(ref: SchemaRef) -> str:
    return json.dumps(["events", ref.name])


def distinct(refs: Iterable[SchemaRef]) -> list[SchemaRef]:
    return sorted(set(refs), key=lambda r: (r.table, r.model, r.revision, r.addition))


class StaticSchemas:
    """Schemas held in memory by URI (tests, embedding applications)."""

    def __init__(
        self, schemas: Mapping[str, Mapping[str, Any]], fallback: SchemaStore | None = None
    ) -> None:
        self._schemas = dict(schemas)
        self._fallback = fallback

    def lookup(self, ref: SchemaRef) -> Mapping[str, Any] | None:
        found = self._schemas.get(ref.uri)
        if found is None and self._fallback is not None:
            return self._fallback.lookup(ref)
        return found

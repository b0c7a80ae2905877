"""Typed access to the protocol tables: ``protocol/parameters.yaml`` and ``enriched/fields.yaml``.

Every loader takes an optional ``root`` (the folder holding ``protocol/`` and ``enriched/``;
default: :func:`plowline.spec.data.data_root`) so checks and tests can read a modified copy.
Files are parsed strictly: an unknown key, a missing key, a value of the wrong type or a
broken internal reference raises :class:`SpecTableError` naming the file and the entry.
Results are cached per file path and modification time, so edits are picked up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, NoReturn, cast, get_args

import yaml
from plowline.spec.data import data_root
from plowline.spec.errors import SpecError

ParamType = Literal[
    "event_type",
    "string",
    "uuid",
    "int",
    "decimal",
    "bool_byte",
    "dims",
    "tstamp",
    "platform",
    "json",
    "base64url_json",
    "ip",
    "url",
]
Encoding = Literal["plain", "json", "base64url_json"]
Requirement = Literal["required", "optional", "deprecated", "ignored", "querystring-only"]
FieldType = Literal["string", "int", "decimal", "double", "bool", "timestamp", "uuid", "json"]
FieldSource = Literal["tracker", "collector", "enrich", "enrichment", "unused"]

PARAMETERS_FILE: Final = Path("protocol", "parameters.yaml")
FIELDS_FILE: Final = Path("enriched", "fields.yaml")
# payload_data schema versions, oldest first; `since` must be one of them (or null).
PAYLOAD_DATA_VERSIONS: Final = ("1-0-0", "1-0-1", "1-0-2", "1-0-3", "1-0-4")
# The enriched TSV line always has exactly this many fields.
ENRICHED_FIELD_COUNT: Final = 131
PLATFORMS: Final = ("web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot", "headset")


class SpecTableError(SpecError, ValueError):
    """A protocol table file is missing, not YAML, or does not follow its structure."""


class UnknownEntryError(SpecError, LookupError):
    """A lookup by name found no parameter, event type or enriched field of that name."""


@dataclass(frozen=True, slots=True)
class EventType:
    """One value of the ``e`` parameter and what enrich makes of it."""

    code: str
    event: str
    vendor: str | None
    name: str | None
    format: str | None
    version: str | None
    legacy: bool
    description: str

    @property
    def schema_uri(self) -> str | None:
        """``iglu:`` URI enrich records for this event type, or None (ue: from the event)."""
        if self.vendor is None or self.name is None or self.format is None or not self.version:
            return None
        return f"iglu:{self.vendor}/{self.name}/{self.format}/{self.version}"


@dataclass(frozen=True, slots=True)
class Parameter:
    """One tracker-protocol parameter (a querystring key or payload_data property)."""

    name: str
    group: str
    fields: tuple[str, ...]
    type: ParamType
    max_length: int | None
    encoding: Encoding
    event_types: tuple[str, ...]
    applies_to_all: bool
    requirement: Requirement
    since: str | None
    alias_of: str | None
    schema_criterion: str | None
    description: str
    remarks: str

    @property
    def in_payload_data(self) -> bool:
        """True when a POST body may carry it (payload_data declares it)."""
        return self.since is not None

    def in_payload_data_version(self, version: str) -> bool:
        """True when payload_data ``version`` (e.g. ``1-0-2``) declares this parameter."""
        if self.since is None:
            return False
        return PAYLOAD_DATA_VERSIONS.index(self.since) <= PAYLOAD_DATA_VERSIONS.index(version)


@dataclass(frozen=True, slots=True)
class Protocol:
    """Everything in ``parameters.yaml``."""

    types: Mapping[str, str] = field(hash=False, compare=False)
    event_types: tuple[EventType, ...]
    parameters: tuple[Parameter, ...]
    by_name: Mapping[str, Parameter] = field(hash=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class EnrichedField:
    """One of the 131 fields of an enriched event."""

    index: int
    name: str
    type: FieldType
    max_length: int | None
    enrich_limit: int | None
    nullable: bool
    analytics_sdk: str
    postgres: str | None
    redshift: str | None
    params: tuple[str, ...]
    source: FieldSource
    enrichment: str | None
    description: str
    remarks: str

    @property
    def length_limit(self) -> int | None:
        """The length enrich enforces by default (its own limit where it differs)."""
        return self.enrich_limit if self.enrich_limit is not None else self.max_length


# --- public accessors ------------------------------------------------------------------------


def protocol(root: Path | None = None) -> Protocol:
    """The parsed ``protocol/parameters.yaml``."""
    path = _path(root, PARAMETERS_FILE)
    return _load_protocol(path, _stamp(path))


def parameters(root: Path | None = None) -> tuple[Parameter, ...]:
    """Every parameter, in file order."""
    return protocol(root).parameters


def parameter(name: str, root: Path | None = None) -> Parameter:
    """The parameter with wire name ``name``; :class:`UnknownEntryError` if there is none."""
    found = protocol(root).by_name.get(name)
    if found is None:
        raise UnknownEntryError(f"no tracker-protocol parameter named {name!r}")
    return found


def event_types(root: Path | None = None) -> tuple[EventType, ...]:
    """Every event type code, in file order."""
    return protocol(root).event_types


def event_type(code: str, root: Path | None = None) -> EventType:
    """The event type with ``e`` code ``code``; :class:`UnknownEntryError` if there is none."""
    for entry in event_types(root):
        if entry.code == code:
            return entry
    raise UnknownEntryError(f"no event type with code {code!r}")


def enriched_fields(root: Path | None = None) -> tuple[EnrichedField, ...]:
    """The 131 enriched fields in TSV order."""
    return _field_table(root)[0]


def enriched_field(name: str, root: Path | None = None) -> EnrichedField:
    """The enriched field called ``name``; :class:`UnknownEntryError` if there is none."""
    found = _field_table(root)[1].get(name)
    if found is None:
        raise UnknownEntryError(f"no enriched field named {name!r}")
    return found


def field_index(name: str, root: Path | None = None) -> int:
    """0-based TSV position of the enriched field ``name``."""
    return enriched_field(name, root).index


def field_names(root: Path | None = None) -> tuple[str, ...]:
    """The enriched field names in TSV order (the TSV header)."""
    return tuple(f.name for f in enriched_fields(root))


# --- loading ---------------------------------------------------------------------------------


def _path(root: Path | None, relative: Path) -> Path:
    return (root if root is not None else data_root()) / relative


def _stamp(path: Path) -> tuple[int, int]:
    """Modification time and size, used as a cache key so an edited file is read again."""
    try:
        info = path.stat()
    except OSError as exc:
        raise SpecTableError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return info.st_mtime_ns, info.st_size


# libyaml's parser when PyYAML was built with it (several times faster), else the pure one.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """Safe loader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"unhashable mapping key {key!r}", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate mapping key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file (safe subset, duplicate keys refused); :class:`SpecTableError` if not."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecTableError(f"{path}: cannot read: {exc}") from exc
    return parse_yaml(text, str(path))


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML text like :func:`read_yaml`; ``where`` names the source in errors."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        raise SpecTableError(f"{where}: not valid YAML: {exc}") from exc


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file whose top level must be a mapping."""
    doc = read_yaml(path)
    if not isinstance(doc, dict):
        raise SpecTableError(f"{path}: the top level must be a mapping")
    return doc


class _Entry:
    """Strict reader for one mapping: typed getters, then :meth:`done` rejects unknown keys."""

    def __init__(self, path: Path, where: str, raw: object) -> None:
        self.path = path
        self.where = where
        if not isinstance(raw, dict):
            self.fail("must be a mapping")
        self.raw: dict[str, Any] = dict(cast("dict[str, Any]", raw))
        self.seen: set[str] = set()

    def fail(self, message: str) -> NoReturn:
        raise SpecTableError(f"{self.path}: {self.where}: {message}")

    def _get(self, key: str, optional: bool) -> tuple[bool, Any]:
        self.seen.add(key)
        if key not in self.raw:
            if optional:
                return False, None
            self.fail(f"missing key {key!r}")
        return True, self.raw[key]

    def typed(self, key: str, check: Callable[[Any], bool], what: str, **kw: Any) -> Any:
        optional = "default" in kw
        present, value = self._get(key, optional)
        if not present:
            return kw["default"]
        if not check(value):
            self.fail(f"{key!r} must be {what}, not {value!r}")
        return value

    def text(self, key: str, **kw: Any) -> str:
        return cast(str, self.typed(key, lambda v: isinstance(v, str), "a string", **kw))

    def nonempty(self, key: str) -> str:
        return cast(
            str, self.typed(key, lambda v: isinstance(v, str) and v != "", "a non-empty string")
        )

    def text_or_none(self, key: str, **kw: Any) -> str | None:
        check: Callable[[Any], bool] = lambda v: v is None or (isinstance(v, str) and v != "")  # noqa: E731
        return cast("str | None", self.typed(key, check, "a non-empty string or null", **kw))

    def flag(self, key: str) -> bool:
        return cast(bool, self.typed(key, lambda v: isinstance(v, bool), "true or false"))

    def count(self, key: str, **kw: Any) -> int | None:
        def check(v: Any) -> bool:
            return v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)

        return cast("int | None", self.typed(key, check, "a non-negative integer or null", **kw))

    def names(self, key: str) -> tuple[str, ...]:
        def check(v: Any) -> bool:
            return isinstance(v, list) and all(isinstance(x, str) and x for x in v)

        values = cast("list[str]", self.typed(key, check, "a list of names"))
        if len(set(values)) != len(values):
            self.fail(f"{key!r} lists a name twice")
        return tuple(values)

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        return cast(str, self.typed(key, lambda v: v in allowed, f"one of {', '.join(allowed)}"))

    def done(self) -> None:
        unknown = sorted(set(self.raw) - self.seen)
        if unknown:
            self.fail(f"unknown key(s) {', '.join(map(repr, unknown))}")


@cache
def _load_protocol(path: Path, stamp: tuple[int, int]) -> Protocol:
    del stamp  # only part of the cache key
    doc = read_yaml_mapping(path)
    top = _Entry(path, "top level", doc)
    raw_types = top.typed("types", lambda v: isinstance(v, dict), "a mapping")
    raw_events = top.typed(
        "event_types", lambda v: isinstance(v, list) and len(v) > 0, "a non-empty list"
    )
    raw_params = top.typed(
        "parameters", lambda v: isinstance(v, list) and len(v) > 0, "a non-empty list"
    )
    top.done()

    types = _read_types(path, raw_types)
    events = tuple(_read_event_type(path, i, raw) for i, raw in enumerate(raw_events))
    codes = [e.code for e in events]
    _no_duplicates(path, "event type code", codes)
    params = tuple(
        _read_parameter(path, i, raw, tuple(codes), types) for i, raw in enumerate(raw_params)
    )
    _no_duplicates(path, "parameter", [p.name for p in params])
    names = {p.name for p in params}
    for p in params:
        if p.alias_of is not None and p.alias_of not in names:
            raise SpecTableError(
                f"{path}: parameter {p.name!r}: alias_of names unknown parameter {p.alias_of!r}"
            )
    return Protocol(
        types=types, event_types=events, parameters=params, by_name={p.name: p for p in params}
    )


def _read_types(path: Path, raw: dict[Any, Any]) -> dict[str, str]:
    declared = set(get_args(ParamType))
    out: dict[str, str] = {}
    for key, value in raw.items():
        if key not in declared:
            raise SpecTableError(f"{path}: types: unknown type {key!r}")
        if not isinstance(value, str) or not value:
            raise SpecTableError(f"{path}: types: {key!r} needs a description")
        out[key] = value
    missing = sorted(declared - set(out))
    if missing:
        raise SpecTableError(f"{path}: types: no description for {', '.join(missing)}")
    return out


def _read_event_type(path: Path, i: int, raw: object) -> EventType:
    code = raw.get("code") if isinstance(raw, dict) else None
    entry = _Entry(path, f"event_types[{i}] ({code})", raw)
    result = EventType(
        code=entry.nonempty("code"),
        event=entry.nonempty("event"),
        vendor=entry.text_or_none("vendor"),
        name=entry.text_or_none("name"),
        format=entry.text_or_none("format"),
        version=entry.text_or_none("version"),
        legacy=entry.flag("legacy"),
        description=entry.nonempty("description"),
    )
    entry.done()
    schema_parts = (result.vendor, result.name, result.format, result.version)
    if any(v is None for v in schema_parts) and any(v is not None for v in schema_parts):
        entry.fail("vendor, name, format and version must be all set or all null")
    return result


def _read_parameter(
    path: Path, i: int, raw: object, codes: tuple[str, ...], types: Mapping[str, str]
) -> Parameter:
    name = raw.get("name") if isinstance(raw, dict) else None
    entry = _Entry(path, f"parameters[{i}] ({name})", raw)
    wire = entry.nonempty("name")
    group = entry.nonempty("group")
    fields = entry.names("fields")
    ptype = cast(ParamType, entry.choice("type", tuple(types)))
    max_length = entry.count("max_length", default=None)
    encoding = cast(Encoding, entry.choice("encoding", get_args(Encoding)))
    raw_events = entry.typed(
        "event_types",
        lambda v: v == "all" or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
        "'all' or a list of event type codes",
    )
    requirement = cast(Requirement, entry.choice("requirement", get_args(Requirement)))
    since = entry.typed(
        "since", lambda v: v is None or v in PAYLOAD_DATA_VERSIONS, "a payload_data version or null"
    )
    alias_of = entry.text_or_none("alias_of", default=None)
    criterion = entry.text_or_none("schema_criterion", default=None)
    description = entry.nonempty("description")
    remarks = entry.text("remarks", default="")
    entry.done()

    applies_to_all = raw_events == "all"
    events = codes if applies_to_all else tuple(cast("list[str]", raw_events))
    unknown = [c for c in events if c not in codes]
    if unknown:
        entry.fail(f"unknown event type code(s) {', '.join(unknown)}")
    if len(set(events)) != len(events):
        entry.fail("event_types lists a code twice")
    if (encoding == "plain") == (ptype in ("json", "base64url_json")) or (
        encoding != "plain" and encoding != ptype
    ):
        entry.fail(f"encoding {encoding!r} does not match type {ptype!r}")
    if (criterion is None) == (encoding != "plain"):
        entry.fail("schema_criterion is required for JSON parameters and only for them")
    if requirement == "querystring-only" and since is not None:
        entry.fail("a querystring-only parameter cannot be in payload_data (since must be null)")
    return Parameter(
        name=wire,
        group=group,
        fields=fields,
        type=ptype,
        max_length=max_length,
        encoding=encoding,
        event_types=events,
        applies_to_all=applies_to_all,
        requirement=requirement,
        since=since,
        alias_of=alias_of,
        schema_criterion=criterion,
        description=description,
        remarks=remarks,
    )


@cache
def _load_fields(
    path: Path, stamp: tuple[int, int]
) -> tuple[tuple[EnrichedField, ...], Mapping[str, EnrichedField]]:
    del stamp
    doc = read_yaml_mapping(path)
    top = _Entry(path, "top level", doc)
    raw_fields = top.typed(
        "fields", lambda v: isinstance(v, list) and len(v) > 0, "a non-empty list"
    )
    top.done()
    fields = tuple(_read_field(path, i, raw) for i, raw in enumerate(raw_fields))
    _no_duplicates(path, "field", [f.name for f in fields])
    for position, f in enumerate(fields):
        if f.index != position:
            raise SpecTableError(
                f"{path}: field {f.name!r} has index {f.index} but is at position {position}"
            )
    return fields, {f.name: f for f in fields}


def _read_field(path: Path, i: int, raw: object) -> EnrichedField:
    name = raw.get("name") if isinstance(raw, dict) else None
    entry = _Entry(path, f"fields[{i}] ({name})", raw)
    index = entry.count("index")
    result = EnrichedField(
        index=index if index is not None else -1,
        name=entry.nonempty("name"),
        type=cast(FieldType, entry.choice("type", get_args(FieldType))),
        max_length=entry.count("max_length"),
        enrich_limit=entry.count("enrich_limit", default=None),
        nullable=entry.flag("nullable"),
        analytics_sdk=entry.nonempty("analytics_sdk"),
        postgres=entry.text_or_none("postgres"),
        redshift=entry.text_or_none("redshift"),
        params=entry.names("params"),
        source=cast(FieldSource, entry.choice("source", get_args(FieldSource))),
        enrichment=entry.text_or_none("enrichment", default=None),
        description=entry.nonempty("description"),
        remarks=entry.text("remarks", default=""),
    )
    entry.done()
    if index is None:
        entry.fail("'index' must be a non-negative integer")
    if result.max_length is not None and result.type not in ("string", "uuid"):
        entry.fail(f"max_length only applies to strings and uuids, not {result.type}")
    if result.enrich_limit is not None and result.max_length is None:
        entry.fail("enrich_limit needs a max_length")
    if result.enrichment is not None and result.source != "enrichment":
        entry.fail("'enrichment' is only for fields whose source is enrichment")
    return result


def _no_duplicates(path: Path, what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SpecTableError(f"{path}: {what} {name!r} appears twice")
        seen.add(name)


def _field_table(
    root: Path | None,
) -> tuple[tuple[EnrichedField, ...], Mapping[str, EnrichedField]]:
    path = _path(root, FIELDS_FILE)
    return _load_fields(path, _stamp(path))

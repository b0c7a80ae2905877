"""Iglu repositories: in-memory, embedded (a local folder) and static HTTP registries.

Each ``lookup`` returns the schema as a dict or raises a ``RegistryError`` (NotFound,
RepoFailure, ClientFailure) — never anything else for bad answers: garbage bodies, schemas
that are not JSON objects, or whose ``self`` names another schema are RepoFailures.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from plowline.spec.decoding import Limits, parse_json
from plowline.spec.errors import (
    ClientFailureError,
    InvalidIgluUriError,
    NotJsonError,
    RepoFailureError,
    SchemaNotFoundError,
)
from plowline.spec.fetch import FetchError, http_get
from plowline.spec.iglu import SchemaKey

DEFAULT_HTTP_TIMEOUT = 5.0
"""Seconds for one whole HTTP lookup (connect, headers, body, redirects)."""

DEFAULT_MAX_SCHEMA_BYTES = 1_048_576
"""Largest schema file or HTTP answer accepted (Iglu Central's biggest is ~60 KB)."""

# Schemas nest more than events (properties → items → properties ...) but never this much.
SCHEMA_MAX_DEPTH = 256


class Registry(ABC):
    """One Iglu repository in a resolver's list."""

    class_priority: ClassVar[int]
    """Iglu's per-kind rank: in-memory 1, embedded 2, HTTP 100 (lower is asked first)."""

    kind: ClassVar[str]

    remote: ClassVar[bool] = False
    """Whether a lookup waits on the network (counted against a resolver's lookup budget)."""

    def __init__(
        self, name: str, *, priority: float = 0, vendor_prefixes: Iterable[str] = ()
    ) -> None:
        self.name = name
        self.priority = priority
        self.vendor_prefixes = tuple(vendor_prefixes)

    def matches_vendor(self, vendor: str) -> bool:
        """True when one of this repository's vendor prefixes starts ``vendor``."""
        return any(vendor.startswith(prefix) for prefix in self.vendor_prefixes)

    @abstractmethod
    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        """The schema for ``key``; raises a RegistryError subclass."""

    def lookup_within(self, key: SchemaKey, seconds: float) -> dict[str, Any]:
        """``lookup``, taking at most ``seconds`` (remote registries shorten their timeout)."""
        return self.lookup(key)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, priority={self.priority!r}, "
            f"vendor_prefixes={list(self.vendor_prefixes)!r})"
        )


def check_schema(key: SchemaKey, document: object, source: str) -> dict[str, Any]:
    """Accept ``document`` only if it is a JSON Schema object whose ``self`` is ``key``."""
    if not isinstance(document, dict):
        raise RepoFailureError(f"{source} is not a JSON Schema: expected an object")
    self_block = document.get("self")
    if self_block is None:
        raise RepoFailureError(f"{source} is not a self-describing schema: no 'self' object")
    try:
        declared = SchemaKey.from_self(self_block)
    except InvalidIgluUriError as exc:
        raise RepoFailureError(f"{source} has an invalid 'self': {exc.reason}") from None
    if declared != key:
        raise RepoFailureError(f"{source} declares itself {declared.uri}, not {key.uri}")
    return document


def _parse_schema_bytes(key: SchemaKey, raw: bytes, source: str, max_bytes: int) -> dict[str, Any]:
    try:
        document = parse_json(raw, Limits(max_depth=SCHEMA_MAX_DEPTH, max_bytes=max_bytes))
    except NotJsonError as exc:
        raise RepoFailureError(f"{source} is not JSON: {exc.reason}") from None
    return check_schema(key, document, source)


class InMemoryRegistry(Registry):
    """Schemas held in memory, keyed by their ``self``; handy for tests and generated schemas."""

    class_priority = 1
    kind = "in-memory"

    def __init__(
        self,
        name: str,
        schemas: Iterable[dict[str, Any]] = (),
        *,
        priority: float = 0,
        vendor_prefixes: Iterable[str] = (),
    ) -> None:
        super().__init__(name, priority=priority, vendor_prefixes=vendor_prefixes)
        self._schemas: dict[SchemaKey, dict[str, Any]] = {}
        for schema in schemas:
            self.add(schema)

    def add(self, schema: dict[str, Any]) -> SchemaKey:
        """Store ``schema`` under the key its ``self`` declares (InvalidIgluUriError if none)."""
        key = SchemaKey.from_self(schema.get("self"))
        self._schemas[key] = schema
        return key

    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        try:
            return self._schemas[key]
        except KeyError:
            raise SchemaNotFoundError() from None

    def keys(self) -> list[SchemaKey]:
        return sorted(self._schemas)


class EmbeddedRegistry(Registry):
    """Schemas in a local folder laid out ``<root>/<vendor>/<name>/<format>/<version>``.

    ``root`` is the folder that holds the vendor folders (Plowline's ``spec/schemas``). An Iglu
    resolver config's ``embedded.path`` names the folder *above* a ``schemas/`` folder: use
    ``EmbeddedRegistry.from_iglu_path`` for that.
    """

    class_priority = 2
    kind = "embedded"

    def __init__(
        self,
        name: str,
        root: str | Path,
        *,
        priority: float = 0,
        vendor_prefixes: Iterable[str] = (),
        max_bytes: int = DEFAULT_MAX_SCHEMA_BYTES,
    ) -> None:
        super().__init__(name, priority=priority, vendor_prefixes=vendor_prefixes)
        self.root = Path(root)
        self.max_bytes = max_bytes

    @classmethod
    def from_iglu_path(
        cls,
        name: str,
        path: str | Path,
        *,
        priority: float = 0,
        vendor_prefixes: Iterable[str] = (),
        max_bytes: int = DEFAULT_MAX_SCHEMA_BYTES,
    ) -> EmbeddedRegistry:
        """An Iglu embedded repository: schemas live under ``<path>/schemas/``."""
        return cls(
            name,
            Path(path) / "schemas",
            priority=priority,
            vendor_prefixes=vendor_prefixes,
            max_bytes=max_bytes,
        )

    def file_for(self, key: SchemaKey) -> Path:
        parts = (key.vendor, key.name, key.format, str(key.version))
        if any(part in (".", "..") for part in parts):
            raise ClientFailureError(f"{key.uri} cannot name a file inside {self.root}")
        return self.root.joinpath(*parts)

    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        path = self.file_for(key)
        try:
            if not path.is_file():
                raise SchemaNotFoundError()
            size = path.stat().st_size
            if size > self.max_bytes:
                raise RepoFailureError(
                    f"{path} is {size} bytes, over the limit of {self.max_bytes} bytes"
                )
            raw = path.read_bytes()
        except OSError as exc:
            raise RepoFailureError(f"cannot read {path}: {exc.strerror or exc}") from None
        return _parse_schema_bytes(key, raw, str(path), self.max_bytes)

    def keys(self) -> Iterator[SchemaKey]:
        """Every schema key that has a file here (files whose path is not a key are skipped)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*/*/*")):
            if path.is_file():
                try:
                    yield SchemaKey.parse("iglu:" + "/".join(path.relative_to(self.root).parts))
                except InvalidIgluUriError:
                    continue


class HttpRegistry(Registry):
    """A static Iglu registry or Iglu Server: ``GET {uri}/schemas/{vendor}/{name}/{format}/{v}``.

    ``apikey`` is sent as the ``apikey`` header (Iglu Server private schemas). 404 is NotFound;
    any other status, a timeout, a refused connection or a body that is not the requested
    schema is a RepoFailure.
    """

    class_priority = 100
    kind = "http"
    remote = True

    def __init__(
        self,
        name: str,
        uri: str,
        *,
        apikey: str | None = None,
        priority: float = 0,
        vendor_prefixes: Iterable[str] = (),
        timeout: float = DEFAULT_HTTP_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_SCHEMA_BYTES,
    ) -> None:
        super().__init__(name, priority=priority, vendor_prefixes=vendor_prefixes)
        parts = urlsplit(uri)
        try:
            parts.port  # noqa: B018 - parsing the port is the check
        except ValueError:
            raise ValueError(f"registry {name!r}: invalid port in uri {uri!r}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"registry {name!r}: uri must be http(s)://host[/path], not {uri!r}")
        if timeout <= 0:
            raise ValueError(f"registry {name!r}: timeout must be > 0, not {timeout}")
        self.uri = uri.rstrip("/")
        self.apikey = apikey
        self.timeout = timeout
        self.max_bytes = max_bytes

    def url_for(self, key: SchemaKey) -> str:
        return f"{self.uri}/schemas/{key.path}"

    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        return self.lookup_within(key, self.timeout)

    def lookup_within(self, key: SchemaKey, seconds: float) -> dict[str, Any]:
        if any(part in (".", "..") for part in (key.vendor, key.name, key.format)):
            raise ClientFailureError(f"{key.uri} cannot be put in a registry URL")
        url = self.url_for(key)
        headers = {"apikey": self.apikey} if self.apikey else {}
        timeout = min(self.timeout, seconds)
        if timeout <= 0:
            raise RepoFailureError(f"GET {url}: not sent, no time left")
        try:
            response = http_get(url, headers=headers, timeout=timeout, max_bytes=self.max_bytes)
        except FetchError as exc:
            raise RepoFailureError(f"GET {url}: {exc}") from None
        if response.status == 404:
            raise SchemaNotFoundError()
        if response.status != 200:
            raise RepoFailureError(f"GET {url}: unexpected HTTP status {response.status}")
        return _parse_schema_bytes(key, response.body, f"GET {url}", self.max_bytes)


def dump_schema(schema: dict[str, Any]) -> str:
    """Pretty JSON of a schema, as ``plowline-spec resolve`` prints it."""
    return json.dumps(schema, indent=2, ensure_ascii=False)

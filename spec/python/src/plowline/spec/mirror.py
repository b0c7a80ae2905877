"""Copy an Iglu registry into a local folder for offline use (``plowline-spec mirror``).

The copy is an embedded registry: ``<dest>/schemas/<vendor>/<name>/<format>/<version>``, which a
resolver config uses with ``{"connection": {"embedded": {"path": "<dest>"}}}`` and
``--schemas <dest>`` accepts too.

Which schemas: an Iglu Server lists all it holds (``GET {uri}/schemas``, sent with the
``apikey`` header for private ones: Iglu Server's ``/api/schemas`` route, uri configured as
``https://host/api``). A static registry such as Iglu Central lists nothing, so the schemas
are named: ``--schema`` URIs, or ``--keys-from DIR``, an embedded folder whose schema keys are
fetched (e.g. an older mirror, to refresh it). Each schema is checked as any lookup is (valid
JSON, ``self`` equal to the requested key) before it is written; a schema that cannot be
fetched is reported and the others are still copied.

Iglu Central and its mirror are the registries of Snowplow's default resolver config
(``DEFAULT_RESOLVER_CONFIG``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from plowline.spec.decoding import Limits, parse_json
from plowline.spec.errors import NotJsonError, RegistryError
from plowline.spec.fetch import FetchError, http_get
from plowline.spec.iglu import SchemaKey
from plowline.spec.registries import (
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_MAX_SCHEMA_BYTES,
    EmbeddedRegistry,
    HttpRegistry,
)

IGLU_CENTRAL: Final = "http://iglucentral.com"
IGLU_CENTRAL_MIRROR: Final = "http://mirror01.iglucentral.com"

# Snowplow's default resolver config (enrich config/iglu_resolver.json; Snowplow docs
# "Iglu resolver"): Iglu Central first, its GCP mirror second.
DEFAULT_RESOLVER_CONFIG: Final[dict[str, Any]] = {
    "schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
    "data": {
        "cacheSize": 500,
        "repositories": [
            {
                "name": "Iglu Central",
                "priority": 0,
                "vendorPrefixes": ["com.snowplowanalytics"],
                "connection": {"http": {"uri": IGLU_CENTRAL}},
            },
            {
                "name": "Iglu Central - GCP Mirror",
                "priority": 1,
                "vendorPrefixes": ["com.snowplowanalytics"],
                "connection": {"http": {"uri": IGLU_CENTRAL_MIRROR}},
            },
        ],
    },
}


class MirrorError(Exception):
    """The registry's schemas could not be listed (the message says why and what to do)."""


@dataclass
class MirrorReport:
    copied: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def list_schemas(
    uri: str, *, apikey: str | None = None, timeout: float = DEFAULT_HTTP_TIMEOUT
) -> list[SchemaKey]:
    """Every schema key an Iglu Server at ``uri`` lists (``GET {uri}/schemas``)."""
    url = uri.rstrip("/") + "/schemas"
    headers = {"apikey": apikey} if apikey else {}
    try:
        response = http_get(url, headers=headers, timeout=timeout, max_bytes=64 << 20)
    except FetchError as exc:
        raise MirrorError(f"GET {url}: {exc}") from None
    hint = (
        "a static registry such as Iglu Central lists nothing: name the schemas with "
        "--schema or --keys-from"
    )
    if response.status != 200:
        raise MirrorError(f"GET {url}: HTTP {response.status} ({hint})")
    try:
        listing = parse_json(response.body, Limits())
    except NotJsonError as exc:
        raise MirrorError(f"GET {url}: not JSON ({exc.reason}; {hint})") from None
    if not isinstance(listing, list):
        raise MirrorError(f"GET {url}: not a list of schema URIs ({hint})")
    keys = []
    for item in listing:
        text = item if isinstance(item, str) else None
        if isinstance(item, dict):  # repr=meta/canonical listings carry the key in "self"
            self_ = item.get("self") or item.get("schema", {}).get("self")
            if isinstance(self_, dict):
                text = "iglu:{vendor}/{name}/{format}/{version}".format_map(self_)
        try:
            keys.append(SchemaKey.parse(text))
        except ValueError:
            raise MirrorError(f"GET {url}: {item!r} is not a schema URI") from None
    return keys


def keys_in(folder: Path) -> list[SchemaKey]:
    """Schema keys of an embedded registry folder (``folder`` or ``folder/schemas``)."""
    root = folder / "schemas" if (folder / "schemas").is_dir() else folder
    return sorted(EmbeddedRegistry(f"keys from {folder}", root).keys(), key=lambda k: k.uri)


def mirror(
    uri: str,
    dest: Path,
    *,
    apikey: str | None = None,
    keys: Iterable[SchemaKey] | None = None,
    timeout: float = DEFAULT_HTTP_TIMEOUT,
    progress: Callable[[str], None] = lambda line: None,
) -> MirrorReport:
    """Copy ``keys`` (default: everything the registry lists) from ``uri`` into ``dest``."""
    wanted = list(keys) if keys is not None else list_schemas(uri, apikey=apikey, timeout=timeout)
    registry = HttpRegistry(
        f"mirror source {uri}", uri, apikey=apikey, timeout=timeout,
        max_bytes=DEFAULT_MAX_SCHEMA_BYTES,
    )  # fmt: skip
    report = MirrorReport()
    total = len(wanted)
    for number, key in enumerate(wanted, 1):
        try:
            schema = registry.lookup(key)
        except RegistryError as exc:
            reason = str(exc) or type(exc).__name__
            if type(exc).__name__ == "SchemaNotFoundError":
                reason = "not found (HTTP 404)"
            report.failed[key.uri] = reason
            progress(f"[{number}/{total}] {key.uri}: FAILED {reason}")
            continue
        _write(dest / "schemas" / key.path, schema)
        report.copied.append(key.uri)
        progress(f"[{number}/{total}] {key.uri}")
    progress(f"{len(report.copied)} copied, {len(report.failed)} failed, into {dest}")
    return report


def _write(path: Path, schema: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    os.replace(name, path)

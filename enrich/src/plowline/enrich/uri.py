"""URL components the way enrich fills page_url* and refr_url* (enrich's EnrichmentManager)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit


@dataclass(frozen=True, slots=True)
class UriParts:
    scheme: str | None
    host: str | None
    port: int
    path: str | None
    query: str | None
    fragment: str | None


class UriError(ValueError):
    """A string no URL parser can make sense of."""


@lru_cache(maxsize=8192)
def explode(url: str) -> UriParts:
    """Scheme, host (case kept), port (80/443 default), raw path, query and fragment."""
    try:
        parts: SplitResult = urlsplit(url.replace(" ", "%20"))
        explicit_port = parts.port
    except ValueError as exc:
        raise UriError(f"Provided URI string [{url}] could not be parsed: {exc}") from exc
    host = _host(parts.netloc)
    scheme = parts.scheme or None
    default_port = 443 if scheme == "https" else 80
    port = explicit_port if explicit_port is not None else default_port
    return UriParts(
        scheme=scheme,
        host=host,
        port=port,
        path=parts.path or None,
        query=parts.query or None,
        fragment=parts.fragment or None,
    )


def _host(netloc: str) -> str | None:
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.partition(":")[0] or None

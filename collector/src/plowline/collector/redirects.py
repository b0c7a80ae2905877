"""Where ``/r/*`` may send a browser: the target parsed as a browser parses it.

A browser reads the ``Location`` we answer with the WHATWG URL Standard
(https://url.spec.whatwg.org/#concept-basic-url-parser): a backslash counts as a slash in
``http(s)`` URLs, tabs and newlines are removed, percent-encoded host bytes are decoded, and
hosts go through IDNA. Checking the host with any other parser (``urllib``, ``java.net.URI``)
lets ``https://evil.com\\@allowed.com/`` through: they see ``allowed.com``, the browser goes
to ``evil.com``. So the target is parsed with ada (a WHATWG URL parser, the one Node.js uses),
its host is checked against the allow-list, and the answer is ada's serialisation of that
same URL, which a browser parses back to the same host; nothing else is ever sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from ada_url import URL

_SCHEMES: Final = frozenset({"http:", "https:"})
# What we put in a Location header: printable ASCII only (WHATWG serialisations of http(s) URLs
# are ASCII: hosts are punycode, everything else percent-encoded).
_LOCATION: Final = re.compile(r"[\x21-\x7e]{1,8192}")
# A browser drops tabs and newlines anywhere in a URL and spaces and controls at its ends; no
# real link holds them, so a target with any of them (or DEL) is refused rather than repaired.
_CONTROL: Final = re.compile(r"[\x00-\x20\x7f]")


class InvalidHostPatternError(ValueError):
    """An allow-list entry that is not a host name, an IP address or ``*.`` and a domain."""


def normalise_host(entry: str) -> str:
    """``Bücher.DE`` -> ``xn--bcher-kva.de``: an allow-list host as a browser spells it."""
    text = entry.strip()
    if not text or (any(c in text for c in "/\\?#@:") and not text.startswith("[")):
        raise InvalidHostPatternError(f"{entry!r} is not a host name")
    try:
        url = URL(f"http://{text}/")
    except ValueError:
        raise InvalidHostPatternError(f"{entry!r} is not a host name") from None
    if url.port or url.pathname != "/" or url.username or url.password:
        raise InvalidHostPatternError(f"{entry!r} is not a host name (no port, path or user)")
    return _bare(url.hostname)


def normalise_pattern(entry: str) -> str:
    """An allow-list entry: a host, or ``*.domain`` for any subdomain of ``domain``."""
    text = entry.strip()
    if text.startswith("*."):
        return "*." + normalise_host(text[2:])
    return normalise_host(text)


def _bare(hostname: str) -> str:
    """One trailing dot names the same host (``allowed.com.`` is ``allowed.com``)."""
    return hostname[:-1] if hostname.endswith(".") and not hostname.endswith("..") else hostname


class RedirectPolicy:
    """Decides the ``Location`` for a redirect target, or refuses it (None)."""

    def __init__(self, allowed: Iterable[str]) -> None:
        exact: set[str] = set()
        suffixes: list[str] = []
        for entry in allowed:
            pattern = normalise_pattern(entry)
            if pattern.startswith("*."):
                suffixes.append(pattern[1:])  # ".domain"
            else:
                exact.add(pattern)
        self._exact = frozenset(exact)
        self._suffixes = tuple(suffixes)

    def host_allowed(self, host: str) -> bool:
        host = _bare(host)
        return host in self._exact or (
            bool(self._suffixes) and host.endswith(self._suffixes) and not host.startswith(".")
        )

    def location(self, target: str) -> str | None:
        """The ``Location`` to answer for ``target`` (after any macro), or None to refuse.

        Refused: spaces and control characters, anything a WHATWG parser rejects or reads as
        relative, schemes other than
        http/https, user names or passwords (a redirect has no use for them, and they are how
        a host is disguised), hosts outside the allow-list. The answer is the parsed URL's
        serialisation, checked again: it parses to itself and to an allowed host, and
        ``urllib`` (an RFC 3986 reader, as some non-browser clients use) agrees on the host.
        """
        if _CONTROL.search(target):
            return None
        url = _parse(target)
        if url is None or not self._acceptable(url):
            return None
        location = url.href
        again = _parse(location)
        if (
            again is None
            or again.href != location
            or not self._acceptable(again)
            or not _LOCATION.fullmatch(location)
        ):
            return None
        try:
            other = urlsplit(location).hostname
        except ValueError:
            return None
        if other is None or _bare(other) != _bare(again.hostname.strip("[]").lower()):
            return None
        return location

    def _acceptable(self, url: URL) -> bool:
        return (
            url.protocol in _SCHEMES
            and not url.username
            and not url.password
            and bool(url.hostname)
            and self.host_allowed(url.hostname)
        )


def _parse(text: str) -> URL | None:
    try:
        return URL(text)  # no base URL: a relative target ("//evil.com", "/x") is refused
    except ValueError:  # UnicodeEncodeError (a lone surrogate) included
        return None

"""Cookie rules: reading the request cookie, choosing the Domain, building Set-Cookie."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Final
from urllib.parse import urlsplit

from plowline.collector.config import CookieConfig

_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_OCTETS: Final = r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"
_COOKIE_VALUE: Final = re.compile(f'{_OCTETS}|"{_OCTETS}"')
EXPIRED: Final = "Thu, 01 Jan 1970 00:00:00 GMT"


def parse_cookie_header(values: Iterable[str]) -> dict[str, str]:
    """Cookies from ``Cookie`` header values; the first occurrence of a name wins."""
    cookies: dict[str, str] = {}
    for value in values:
        for pair in value.split(";"):
            name, sep, val = pair.partition("=")
            if not sep:
                continue
            name = name.strip()
            if name and name not in cookies:
                val = val.strip()
                if len(val) >= 2 and val[0] == val[-1] == '"':
                    val = val[1:-1]
                cookies[name] = val
    return cookies


_PAIR: Final = rf"[!#$%&'*+\-.^_`|~0-9A-Za-z]+=(?:{_OCTETS}|\"{_OCTETS}\")"
_WELL_FORMED: Final = re.compile(rf"{_PAIR}(?:; ?{_PAIR})*")


def sanitise_cookie_header(value: str) -> str:
    """The Cookie header as it is stored: RFC 6265 pairs only, spaces removed, ';'-joined."""
    if _WELL_FORMED.fullmatch(value):  # the common case: nothing to drop
        return value.replace(" ", "")
    kept = []
    for pair in value.split(";"):
        pair = pair.replace(" ", "")
        name, sep, val = pair.partition("=")
        if sep and _TOKEN.fullmatch(name) and _COOKIE_VALUE.fullmatch(val):
            kept.append(pair)
    return ";".join(kept)


def origin_hosts(origin_header: str | None) -> list[str]:
    """Hosts named by an ``Origin`` header (it may list several, space-separated)."""
    if not origin_header:
        return []
    hosts = []
    for origin in origin_header.split():
        try:
            host = urlsplit(origin).hostname
        except ValueError:
            continue
        if host:
            hosts.append(host.lower())
    return hosts


def choose_domain(config: CookieConfig, origin_header: str | None) -> str | None:
    """First configured domain an Origin host equals or is a subdomain of; else the fallback."""
    if config.domains:
        hosts = origin_hosts(origin_header)
        for domain in config.domains:
            for host in hosts:
                if host == domain or host.endswith("." + domain):
                    return domain
    return config.fallback_domain or None


class SetCookieBuilder:
    """Formats Set-Cookie values; the Expires date is cached per second (hot path)."""

    def __init__(self, config: CookieConfig, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._clock = clock
        self._ttl = config.expiration_days * 86400
        self._cached_second = -1
        self._cached_expires = ""
        flags = ["Path=/"]
        if config.secure:
            flags.append("Secure")
        if config.http_only:
            flags.append("HttpOnly")
        if config.same_site:
            flags.append(f"SameSite={config.same_site}")
        self._flags = "; ".join(flags)
        client_flags = ["Path=/"]
        if config.secure:
            client_flags.append("Secure")
        if config.same_site:
            client_flags.append(f"SameSite={config.same_site}")
        self._client_flags = "; ".join(client_flags)

    def _expires(self) -> str:
        now = self._clock()
        second = int(now)
        if second != self._cached_second:
            self._cached_second = second
            self._cached_expires = formatdate(second + self._ttl, usegmt=True)
        return self._cached_expires

    def build(self, value: str, domain: str | None) -> list[str]:
        """Set-Cookie values for the network user id (and the client cookie if configured)."""
        expires = self._expires()
        dom = f"; Domain={domain}" if domain else ""
        out = [f"{self._config.name}={value}; Expires={expires}{dom}; {self._flags}"]
        if self._config.client_cookie_name:
            out.append(
                f"{self._config.client_cookie_name}={value}; Expires={expires}{dom}; "
                f"{self._client_flags}"
            )
        return out

    def expire(self, domain: str | None) -> list[str]:
        """Set-Cookie values that delete the cookie (SP-Anonymous requests)."""
        dom = f"; Domain={domain}" if domain else ""
        return [f"{self._config.name}=; Expires={EXPIRED}{dom}; {self._flags}"]

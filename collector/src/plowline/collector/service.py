"""The collector's routes and rules, free of any HTTP server: Request in, Response out.

Routes (Snowplow collector behaviour, see the README for the full table):
``GET|HEAD /i`` and ``/ice.png`` and ``GET|HEAD|POST /{vendor}/{version}`` record a
CollectorPayload; ``/r/*`` redirects (off by default, allow-listed targets only);
``OPTIONS *`` answers CORS preflights; ``/health``, ``/sink-health``, ``/robots.txt``,
``/crossdomain.xml``, ``/metrics`` and ``/`` serve their fixed answers.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Callable
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from plowline.collector import __version__
from plowline.collector.buffer import SinkBuffer
from plowline.collector.config import CollectorConfig
from plowline.collector.cookies import (
    SetCookieBuilder,
    choose_domain,
    parse_cookie_header,
    sanitise_cookie_header,
)
from plowline.collector.http_types import Request, Response
from plowline.collector.redirects import RedirectPolicy
from plowline.collector.splitting import fit
from plowline.spec.collector_payload import CollectorPayload, encode

PIXEL: Final = base64.b64decode("R0lGODlhAQABAPAAAP///wAAACH5BAUAAAAALAAAAAABAAEAAAICRAEAOw==")
ANONYMOUS_ID: Final = "00000000-0000-0000-0000-000000000000"
NO_CACHE: Final = "no-cache, no-store, must-revalidate"
# A Set-Cookie value we echo must be plain printable ASCII (no header injection).
_COOKIE_SAFE: Final = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,512}")
_ANONYMOUS_DROP: Final = frozenset({"x-forwarded-for", "x-real-ip", "cookie"})
_PIXEL_PATHS: Final = frozenset({"/i", "/ice.png"})
_TRACKING_METHODS: Final = frozenset({"GET", "HEAD", "POST"})

# Route labels for metrics (a fixed, small set: never the raw path).
ROUTE_PIXEL: Final = "pixel"
ROUTE_TP2: Final = "tracker"
ROUTE_REDIRECT: Final = "redirect"
ROUTE_PREFLIGHT: Final = "preflight"
ROUTE_OTHER: Final = "other"
ROUTE_NOT_FOUND: Final = "not_found"

_canonical_cache: dict[str, str] = {}


def canonical_header_name(name: str) -> str:
    """``x-forwarded-for`` -> ``X-Forwarded-For`` (servers hand us lower-cased names)."""
    found = _canonical_cache.get(name)
    if found is None:
        found = "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
        if len(_canonical_cache) < 4096:
            _canonical_cache[name] = found
    return found


def _text(status: int, body: str, headers: list[tuple[str, str]] | None = None) -> Response:
    hdrs = [("content-type", "text/plain; charset=utf-8")]
    if headers:
        hdrs.extend(headers)
    return Response(status, hdrs, body.encode("utf-8"))


_origin_cache: dict[str, str] = {}


def _origin_value(origin: str | None) -> str:
    """CORS allow-origin: the first Origin as scheme://host[:port], or * without one."""
    if not origin:
        return "*"
    found = _origin_cache.get(origin)
    if found is None:
        found = _parse_origin(origin)
        if len(_origin_cache) < 4096:
            _origin_cache[origin] = found
    return found


def _parse_origin(origin: str) -> str:
    if origin:
        first = origin.split()[0] if origin.split() else ""
        try:
            parts = urlsplit(first)
        except ValueError:
            return "*"
        # Echoed in a response header: printable ASCII only (header values arrive as Latin-1).
        if parts.scheme and parts.netloc and first.isascii() and first.isprintable():
            return f"{parts.scheme}://{parts.netloc}"
    return "*"


def _hostname(host_header: str | None) -> str | None:
    """Host header without its port (None when absent or malformed)."""
    if not host_header:
        return None
    if "[" not in host_header and "/" not in host_header and "@" not in host_header:
        name = host_header.partition(":")[0]
        return name.lower() or None
    try:
        return urlsplit("//" + host_header).hostname
    except ValueError:
        return None


class CollectorService:
    """Applies the collector rules to one request; stores via two bounded buffers."""

    def __init__(
        self,
        config: CollectorConfig,
        good: SinkBuffer,
        bad: SinkBuffer,
        *,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        metrics_body: Callable[[], tuple[bytes, str]] | None = None,
        on_response: Callable[[str, int], None] | None = None,
    ) -> None:
        self.config = config
        self.good = good
        self.bad = bad
        self._clock = clock
        self._new_id = new_id
        self._metrics_body = metrics_body
        self._on_response = on_response or (lambda _route, _status: None)
        self._collector_name = f"plowline-collector-{__version__}-{good.kind}"
        limit = min(config.limits.max_payload_bytes, good.sink.max_record_bytes)
        self.payload_limit = limit
        self._paths = dict(config.paths)
        self._cookie = config.cookie
        self._set_cookie = SetCookieBuilder(config.cookie, clock)
        dnt = config.do_not_track_cookie
        self._dnt_name = dnt.name if dnt.enabled else None
        self._dnt_value = re.compile(dnt.value)
        self._preflight_headers = [
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-headers", "Content-Type, SP-Anonymous"),
            ("access-control-max-age", str(config.cors.access_control_max_age_seconds)),
        ]
        self._robots = config.robots_txt.encode("utf-8")
        self._redirects = RedirectPolicy(config.redirect.allowed_hosts)
        self._macro = config.redirect.macro or None
        self._crossdomain = self._crossdomain_body(config)

    # ---- dispatch --------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        route, response = self._dispatch(req)
        self._on_response(route, response.status)
        if req.method == "HEAD":
            response.body = b""
        return response

    def _dispatch(self, req: Request) -> tuple[str, Response]:
        method = req.method
        path = self._paths.get(req.path, req.path)
        if method == "OPTIONS":
            return ROUTE_PREFLIGHT, self._preflight(req)
        if path in _PIXEL_PATHS:
            if method in ("GET", "HEAD"):
                return ROUTE_PIXEL, self._track(req, path, ROUTE_PIXEL)
            return ROUTE_NOT_FOUND, _text(404, "not found")
        if path.startswith("/r/") and len(path) > 3:
            return ROUTE_REDIRECT, self._redirect(req, path)
        if path.count("/") == 2 and "" not in path[1:].split("/"):
            if method in _TRACKING_METHODS:
                kind = ROUTE_TP2 if method == "POST" else ROUTE_PIXEL
                return kind, self._track(req, path, kind)
            return ROUTE_NOT_FOUND, _text(404, "not found")
        if method in ("GET", "HEAD"):
            fixed = self._fixed(path)
            if fixed is not None:
                return ROUTE_OTHER, fixed
        return ROUTE_NOT_FOUND, _text(404, "not found")

    def _fixed(self, path: str) -> Response | None:
        if path == "/health":
            return _text(200, "ok")
        if path == "/sink-health":
            if self.good.healthy() and self.bad.healthy():
                return _text(200, "ok")
            return _text(503, "sink unhealthy")
        if path == "/robots.txt":
            return Response(200, [("content-type", "text/plain; charset=utf-8")], self._robots)
        if path == "/crossdomain.xml":
            if self._crossdomain is None:
                return _text(404, "not found")
            return Response(200, [("content-type", "text/xml")], self._crossdomain)
        if path == "/metrics" and self._metrics_body is not None:
            body, content_type = self._metrics_body()
            return Response(200, [("content-type", content_type)], body)
        if path == "/" and self.config.root_response.enabled:
            root = self.config.root_response
            headers = [(k.lower(), v) for k, v in root.headers.items()]
            return Response(root.status_code, headers, root.body.encode("utf-8"))
        return None

    @staticmethod
    def _crossdomain_body(config: CollectorConfig) -> bytes | None:
        cd = config.cross_domain
        if not cd.enabled:
            return None
        secure = "true" if cd.secure else "false"
        lines = ['<?xml version="1.0"?>', "<cross-domain-policy>"]
        for domain in cd.domains:
            escaped = domain.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            lines.append(f'  <allow-access-from domain="{escaped}" secure="{secure}" />')
        lines.append("</cross-domain-policy>")
        return "\n".join(lines).encode("utf-8")

    def _preflight(self, req: Request) -> Response:
        headers = [("access-control-allow-origin", _origin_value(req.header("origin")))]
        headers.extend(self._preflight_headers)
        return Response(200, headers, b"")

    # ---- tracking --------------------------------------------------------------------------

    def _redirect(self, req: Request, path: str) -> Response:
        if not self.config.redirect.enabled:
            return _text(404, "redirects disabled")
        params = dict(parse_qsl(req.query_string, keep_blank_values=True))
        target = params.get("u")
        if not target:
            return _text(400, "missing redirect target u")
        # Without a macro the target is final: refuse it before anything is recorded. With one,
        # the Location is only known once the network user id is in it (checked in _track).
        if self._macro is None and self._redirects.location(target) is None:
            return _text(400, "redirect target is not an allowed http(s) URL")
        return self._track(req, path, ROUTE_REDIRECT, target)

    def _location(self, target: str, nuid: str) -> str | None:
        """The Location for a redirect: the macro filled in, then parsed and checked as a
        browser will read it (see redirects.py); None refuses the redirect."""
        if self._macro is not None:
            target = target.replace(self._macro, nuid)
        return self._redirects.location(target)

    def _track(self, req: Request, path: str, kind: str, target: str | None = None) -> Response:
        # One pass over the headers: the stored "Name: value" list and the ones we act on.
        headers: list[str] = []
        cookie_values: list[str] = []
        origin = user_agent = referer = host = content_type = None
        anonymous = False
        for name, value in req.headers:
            if name == "cookie":
                cookie_values.append(value)
                value = sanitise_cookie_header(value)
            elif name == "user-agent":
                user_agent = value
            elif name == "origin":
                if origin is None:
                    origin = value
            elif name == "referer":
                referer = value
            elif name == "host":
                host = value
            elif name == "content-type":
                content_type = value
            elif name == "sp-anonymous":
                anonymous = True
            headers.append(f"{canonical_header_name(name)}: {value}")
        cookies = parse_cookie_header(cookie_values) if cookie_values else {}
        cors = [
            ("access-control-allow-origin", _origin_value(origin)),
            ("access-control-allow-credentials", "true"),
        ]
        if self._dnt_name is not None:
            dnt = cookies.get(self._dnt_name)
            if dnt is not None and self._dnt_value.fullmatch(dnt):
                if target is not None:
                    # Not tracked: no network user id goes into the target either.
                    target = self._location(target, "")
                    if target is None:
                        return _text(400, "redirect target is not an allowed http(s) URL")
                return self._tracking_response(kind, cors, [], target)
        cookie_conf = self._cookie
        nuid = ANONYMOUS_ID
        if anonymous:
            headers = [
                stored
                for (name, _), stored in zip(req.headers, headers, strict=True)
                if name not in _ANONYMOUS_DROP
            ]
        else:
            from_query = ""
            if "nuid=" in req.query_string:
                for key, value in parse_qsl(req.query_string, keep_blank_values=True):
                    if key == "nuid":
                        from_query = value  # last one wins
            nuid = from_query or cookies.get(cookie_conf.name) or self._new_id()
        # The request's headers as received, nothing added: the Scala collector's `headers`
        # (snowplow/stream-collector http4s `Service.scala`) stores each as `Name: value`.
        is_post = req.method == "POST"
        body = None
        if is_post and req.body:
            body = req.body.decode("utf-8", "replace")
        payload = CollectorPayload(
            ip_address="unknown" if anonymous else (req.client_ip or "unknown"),
            timestamp=int(self._clock() * 1000),
            collector=self._collector_name,
            user_agent=user_agent,
            referer_uri=referer,
            path=path,
            querystring=req.query_string or None,
            body=body,
            headers=headers,
            content_type=content_type.lower() if is_post and content_type else None,
            hostname=_hostname(host),
            network_user_id=nuid,
        )
        if target is not None:
            target = self._location(target, nuid)
            if target is None:
                return _text(400, "redirect target is not an allowed http(s) URL")
        encoded = encode(payload)
        if len(encoded) <= self.payload_limit:
            stored = self.good.offer((encoded,))
        else:
            sized = fit(payload, encoded, self.payload_limit)
            stored = (not sized.bad or self.bad.offer(sized.bad)) and (
                not sized.good or self.good.offer(sized.good)
            )
        if not stored:
            return _text(503, "service unavailable: buffer full, retry later", cors)

        set_cookie: list[str] = []
        # With SP-Anonymous no Set-Cookie at all, as the Scala collector's `cookieHeader`: the
        # browser's cookie is left alone, only this request is anonymous.
        if cookie_conf.enabled and not anonymous and _COOKIE_SAFE.fullmatch(nuid):
            set_cookie = self._set_cookie.build(nuid, choose_domain(cookie_conf, origin))
        return self._tracking_response(kind, cors, set_cookie, target)

    @staticmethod
    def _tracking_response(
        kind: str, cors: list[tuple[str, str]], set_cookie: list[str], target: str | None
    ) -> Response:
        if kind == ROUTE_REDIRECT:
            headers = [("location", target or "/"), ("cache-control", NO_CACHE)]
            body = b""
            status = 302
        elif kind == ROUTE_PIXEL:
            headers = [("content-type", "image/gif"), ("cache-control", NO_CACHE)]
            body = PIXEL
            status = 200
        else:
            headers = [("content-type", "text/plain; charset=utf-8")]
            body = b"ok"
            status = 200
        headers.extend(cors)
        for value in set_cookie:
            headers.append(("set-cookie", value))
        return Response(status, headers, body)

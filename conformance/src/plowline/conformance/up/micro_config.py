"""Snowplow Micro's ``--collector-config`` file: the Scala collector's HOCON, read with pyhocon
and turned into plowline-collector settings.

Keys follow the collector's reference config (snowplow/stream-collector
``core/src/main/resources/reference.conf``), under a top-level ``collector`` block as in
Micro's ``micro.conf``. Keys that only matter to a deployed collector (sinks, TLS, telemetry,
monitoring) are named back as ignored; a key we do not know is named too, never dropped in
silence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

# pyhocon ships no type information; its two names used here are typed by their use.
from pyhocon import ConfigFactory  # type: ignore[import-untyped]
from pyhocon.exceptions import ConfigException  # type: ignore[import-untyped]
from pyparsing import ParseBaseException

# Deployment-only keys: accepted, without effect in `plowline up`.
IGNORED = frozenset(
    {
        "streams",
        "ssl",
        "networking",
        "telemetry",
        "monitoring",
        "enableStartMessage",
        "preTerminationPeriod",
        "prometheusMetrics",
        "experimental",
        "license",
        "hsts",
        "compression",
        "enableDefaultRedirect",  # read below, with redirectMacro and redirectDomains
    }
)
_UNITS = {
    "ms": 0.001,
    "milli": 0.001,
    "millis": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
    "s": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}


class MicroConfigError(ValueError):
    """The file cannot be read as a collector config (the message says where and why)."""


@dataclass
class MicroCollectorConfig:
    """plowline-collector settings (``CollectorConfig`` fields) and what the file asked for
    that has no effect here."""

    overrides: dict[str, Any] = field(default_factory=dict)
    host: str | None = None
    port: int | None = None
    ignored: list[str] = field(default_factory=list)


def seconds(value: Any, where: str) -> float:
    """A HOCON duration in seconds: ``365 days``, ``60 minutes``; a bare number is
    milliseconds, as in Typesafe config."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        raise MicroConfigError(f"{where}: {value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value) / 1000
    if hasattr(value, "days") and hasattr(value, "hours"):  # dateutil relativedelta
        # A month counts 30 days and a year 365, as Typesafe config's `months`/`years` do.
        fields = (
            ("years", 365 * 86400),
            ("months", 30 * 86400),
            ("days", 86400),
            ("hours", 3600),
            ("minutes", 60),
            ("seconds", 1),
            ("microseconds", 1e-6),
        )
        return sum(float(getattr(value, name, 0)) * factor for name, factor in fields)
    if isinstance(value, str):
        found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", value)
        if found and (found.group(2) or "ms") in _UNITS:
            return float(found.group(1)) * _UNITS[found.group(2) or "ms"]
    raise MicroConfigError(f"{where}: {value!r} is not a duration (e.g. `365 days`)")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _bool(section: Mapping[str, Any], key: str, where: str) -> bool | None:
    if key not in section:
        return None
    value = section[key]
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise MicroConfigError(f"{where}.{key}: {value!r} is not true or false")
    return value


def _cookie(section: Mapping[str, Any], out: MicroCollectorConfig) -> dict[str, Any]:
    where = "collector.cookie"
    cookie: dict[str, Any] = {}
    for key, ours in (("enabled", "enabled"), ("secure", "secure"), ("httpOnly", "http_only")):
        flag = _bool(section, key, where)
        if flag is not None:
            cookie[ours] = flag
    if "name" in section:
        cookie["name"] = str(section["name"])
    if "expiration" in section:
        cookie["expiration_days"] = seconds(section["expiration"], f"{where}.expiration") / 86400
    if "domains" in section:
        domains = section["domains"]
        if not isinstance(domains, list):
            raise MicroConfigError(f"{where}.domains must be a list")
        cookie["domains"] = [str(d) for d in domains]
    if section.get("fallbackDomain"):
        cookie["fallback_domain"] = str(section["fallbackDomain"])
    if "sameSite" in section:
        same_site = section["sameSite"]
        cookie["same_site"] = None if same_site in (None, "") else str(same_site)
    for key in section:
        if key not in {
            "enabled",
            "secure",
            "httpOnly",
            "name",
            "expiration",
            "domains",
            "fallbackDomain",
            "sameSite",
        }:
            out.ignored.append(f"{where}.{key}")
    return cookie


def translate(tree: Mapping[str, Any]) -> MicroCollectorConfig:
    """The ``collector`` block of Micro's config as plowline-collector settings."""
    out = MicroCollectorConfig()
    root = tree.get("collector", tree)
    if not isinstance(root, Mapping):
        raise MicroConfigError("`collector` must be a block")
    root = _plain(root)
    ov = out.overrides
    for key, value in root.items():
        if key == "interface":
            out.host = str(value)
        elif key == "port":
            if not isinstance(value, int) or not 0 <= value <= 65535:
                raise MicroConfigError(f"collector.port: {value!r} is not a port number")
            out.port = value
        elif key == "paths":
            if not isinstance(value, dict):
                raise MicroConfigError("collector.paths must be a block of path = target")
            ov["paths"] = {str(k).strip('"'): str(v) for k, v in value.items()}
        elif key == "cookie":
            ov["cookie"] = _cookie(value, out)
        elif key == "doNotTrackCookie":
            dnt: dict[str, Any] = {}
            enabled = _bool(value, "enabled", "collector.doNotTrackCookie")
            if enabled is not None:
                dnt["enabled"] = enabled
            for name in ("name", "value"):
                if name in value:
                    dnt[name] = str(value[name])
            ov["do_not_track_cookie"] = dnt
        elif key == "cors":
            if "accessControlMaxAge" in value:
                age = seconds(value["accessControlMaxAge"], "collector.cors.accessControlMaxAge")
                ov["cors"] = {"access_control_max_age_seconds": int(age)}
        elif key == "rootResponse":
            root_response: dict[str, Any] = {}
            enabled = _bool(value, "enabled", "collector.rootResponse")
            if enabled is not None:
                root_response["enabled"] = enabled
            if "statusCode" in value:
                root_response["status_code"] = int(value["statusCode"])
            if "headers" in value:
                root_response["headers"] = {str(k): str(v) for k, v in value["headers"].items()}
            if "body" in value:
                root_response["body"] = str(value["body"])
            ov["root_response"] = root_response
        elif key == "crossDomain":
            cross: dict[str, Any] = {}
            for flag_name in ("enabled", "secure"):
                flag = _bool(value, flag_name, "collector.crossDomain")
                if flag is not None:
                    cross[flag_name] = flag
            if "domains" in value:
                cross["domains"] = [str(d) for d in value["domains"]]
            ov["cross_domain"] = cross
        elif key in ("redirectMacro", "redirectDomains"):
            continue  # with enableDefaultRedirect below
        elif key in IGNORED:
            if key != "enableDefaultRedirect":
                out.ignored.append(f"collector.{key}")
        else:
            out.ignored.append(f"collector.{key} (unknown)")
    redirect_on = _bool(root, "enableDefaultRedirect", "collector")
    if redirect_on:
        hosts = root.get("redirectDomains", [])
        if not hosts:
            raise MicroConfigError(
                "collector.enableDefaultRedirect is true with an empty redirectDomains: "
                "plowline up needs the hosts a redirect may point at (an open redirect is refused)"
            )
        redirect: dict[str, Any] = {"enabled": True, "allowed_hosts": [str(h) for h in hosts]}
        macro = root.get("redirectMacro", {})
        if isinstance(macro, dict) and _bool(macro, "enabled", "collector.redirectMacro"):
            redirect["macro"] = str(macro.get("placeholder") or "${SP_NUID}")
        ov["redirect"] = redirect
    return out


def load(path: Path) -> MicroCollectorConfig:
    """Read and translate a Micro ``--collector-config`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MicroConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        tree = ConfigFactory.parse_string(text, resolve=True)
    except (ConfigException, ParseBaseException) as exc:
        raise MicroConfigError(f"{path} is not valid HOCON: {exc}") from None
    return translate(tree)

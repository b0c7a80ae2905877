"""Collector configuration: one TOML file, environment overrides, validated at start.

Every key has a default, so the collector runs with no file at all (stdout sinks on
127.0.0.1:8080). Environment variables ``PLOWLINE_COLLECTOR_<KEY>`` override the file;
nested keys are joined with ``__`` (``PLOWLINE_COLLECTOR_COOKIE__NAME=sid``,
``PLOWLINE_COLLECTOR_SINKS__GOOD__TYPE=kafka``). Values are read as TOML values when they parse
as one (``true``, ``8080``, ``["a", "b"]``) and as plain strings otherwise.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from plowline.collector.redirects import InvalidHostPatternError, normalise_pattern
from plowline.spec.framing import Framing
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ENV_PREFIX: Final = "PLOWLINE_COLLECTOR_"
TRACKER_PATHS: Final = (
    "/com.snowplowanalytics.snowplow/tp2",
    "/com.snowplowanalytics.iglu/v1",
    "/r/tp2",
)
DEFAULT_ROBOTS: Final = (
    "User-agent: *\nDisallow: /\n\n"
    "User-agent: Googlebot\nDisallow: /\n\n"
    "User-agent: AdsBot-Google\nDisallow: /\n"
)


_DOMAIN: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE: Final = re.compile(r"[\x20-\x7e\t]*")


class ConfigError(ValueError):
    """The configuration cannot be used; the message names each bad key and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    server: Literal["granian", "uvicorn"] = "granian"
    # Pending connections the listening socket queues.
    backlog: int = Field(default=1024, ge=1)
    # A request body must have arrived in full this long after its headers, else 408 and the
    # connection is closed (a client holding a connection open after its headers costs a slot
    # and the memory of what it sent).
    body_timeout_seconds: float = Field(default=30, gt=0)


class CookieConfig(_Strict):
    enabled: bool = True
    name: str = Field(default="sp", pattern=r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
    expiration_days: float = Field(default=365, ge=0)
    domains: list[str] = []
    fallback_domain: str | None = None
    secure: bool = True
    http_only: bool = True
    same_site: Literal["None", "Lax", "Strict"] | None = "None"
    # Optional second cookie readable by JavaScript (httpOnly=false), same value.
    client_cookie_name: str | None = None

    @field_validator("domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        domains = [d.strip().lstrip(".").lower() for d in value if d.strip()]
        for domain in domains:
            if not _DOMAIN.fullmatch(domain):
                raise ValueError(f"{domain!r} is not a cookie domain (ASCII host name)")
        return domains

    @field_validator("fallback_domain")
    @classmethod
    def _fallback(cls, value: str | None) -> str | None:
        if value and not _DOMAIN.fullmatch(value.lstrip(".")):
            raise ValueError(f"{value!r} is not a cookie domain (ASCII host name)")
        return value.lstrip(".").lower() if value else None


class DoNotTrackCookieConfig(_Strict):
    enabled: bool = False
    name: str = ""
    # Regular expression the cookie value must match in full.
    value: str = ".*"

    @field_validator("value")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _name_needed(self) -> DoNotTrackCookieConfig:
        if self.enabled and not self.name:
            raise ValueError("do_not_track_cookie.name is required when enabled")
        return self


class CorsConfig(_Strict):
    access_control_max_age_seconds: int = Field(default=3600, ge=0)


class RedirectConfig(_Strict):
    """``/r/tp2`` redirects: off by default and never open (an allow-list is required)."""

    enabled: bool = False
    # Hosts a redirect may point at: exact names, or "*.example.com" for any subdomain
    # (Unicode names are kept in their IDNA form, as a browser resolves them).
    allowed_hosts: list[str] = []
    # When set, this placeholder in the target URL is replaced by the network user id; the
    # target is checked after the replacement.
    macro: str | None = None

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        try:
            return [normalise_pattern(entry) for entry in value]
        except InvalidHostPatternError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _allow_list(self) -> RedirectConfig:
        if self.enabled and not self.allowed_hosts:
            raise ValueError(
                "redirect.allowed_hosts must list at least one host when redirects are enabled "
                "(an empty list would make the collector an open redirect)"
            )
        return self


class CrossDomainConfig(_Strict):
    enabled: bool = False
    domains: list[str] = ["*"]
    secure: bool = True


class RootResponseConfig(_Strict):
    enabled: bool = False
    status_code: int = Field(default=302, ge=100, le=599)
    headers: dict[str, str] = {}
    body: str = ""

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.fullmatch(name) or not _HEADER_VALUE.fullmatch(text):
                raise ValueError(f"header {name!r}: names must be tokens, values printable ASCII")
        return value


class LimitsConfig(_Strict):
    # A serialised payload above this becomes a size_violation bad row (POSTs are split first).
    max_payload_bytes: int = Field(default=1_048_576, ge=1024)
    # A request body above this is refused with 413 and nothing is stored.
    drop_payload_bytes: int = Field(default=2_097_152, ge=1024)
    # Request-body bytes all requests in progress may hold together (received but not yet
    # handled); a request that would go past it gets 503 (trackers retry) and is closed.
    max_inflight_body_bytes: int = Field(default=128 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _order(self) -> LimitsConfig:
        if self.drop_payload_bytes < self.max_payload_bytes:
            raise ValueError("limits.drop_payload_bytes must be >= limits.max_payload_bytes")
        if self.max_inflight_body_bytes < self.drop_payload_bytes:
            raise ValueError(
                "limits.max_inflight_body_bytes must be >= limits.drop_payload_bytes "
                "(else a body of the largest accepted size could never be read)"
            )
        return self


class BufferConfig(_Strict):
    """The bounded buffer between HTTP and a sink; full means 503 (trackers retry)."""

    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    batch_max_records: int = Field(default=1000, ge=1)
    batch_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    linger_ms: float = Field(default=10, ge=0)
    # Back-off between failed deliveries (doubles up to the maximum).
    retry_initial_ms: float = Field(default=100, gt=0)
    retry_max_ms: float = Field(default=10_000, gt=0)
    # Each sink flush waits at most this long before it is retried.
    flush_timeout_seconds: float = Field(default=10, gt=0)
    # On SIGTERM, keep delivering buffered records for at most this long.
    drain_timeout_seconds: float = Field(default=30, ge=0)
    # Where records still undelivered after the drain are written (and replayed at the next
    # start, before serving). Without it they are lost (and logged) if the sink stays down.
    spill_directory: Path | None = None


class _SinkBase(_Strict):
    # Largest record the sink accepts; None means the sink type's own limit.
    max_record_bytes: int | None = Field(default=None, ge=1024)


class StdoutSinkConfig(_SinkBase):
    type: Literal["stdout"] = "stdout"
    # base64: one base64 line per record (binary-safe); raw: the bytes and a newline.
    encoding: Literal["base64", "raw"] | None = None


class FileSinkConfig(_SinkBase):
    type: Literal["file"]
    directory: Path
    prefix: str = "records"
    encoding: Literal["base64", "raw"] | None = None
    rotate_bytes: int = Field(default=128 * 1024 * 1024, ge=1024)
    rotate_seconds: float = Field(default=3600, gt=0)
    fsync: bool = True


class MemorySinkConfig(_SinkBase):
    type: Literal["memory"]
    # false: only count records (benchmarks), true: keep them for inspection (tests).
    keep: bool = True


class KafkaSinkConfig(_SinkBase):
    type: Literal["kafka"]
    bootstrap_servers: str
    topic: str
    # Extra librdkafka settings (strings), e.g. {"compression.type" = "lz4"}.
    producer: dict[str, str | int | float | bool] = {}


class _AwsBase(_SinkBase):
    region: str = "us-east-1"
    endpoint_url: str | None = None


class KinesisSinkConfig(_AwsBase):
    type: Literal["kinesis"]
    stream_name: str
    max_attempts: int = Field(default=5, ge=1)


class SqsSinkConfig(_AwsBase):
    type: Literal["sqs"]
    queue_url: str
    max_attempts: int = Field(default=5, ge=1)


class S3SinkConfig(_AwsBase):
    type: Literal["s3"]
    bucket: str
    prefix: str = ""
    # Records are gathered into one object until it reaches this size (or a flush).
    object_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Object body: framed (a §2.6 compressed batch, good stream) or lines (bad rows, gzip).
    format: Literal["framed", "lines"] | None = None


SinkConfig = Annotated[
    StdoutSinkConfig
    | FileSinkConfig
    | MemorySinkConfig
    | KafkaSinkConfig
    | KinesisSinkConfig
    | SqsSinkConfig
    | S3SinkConfig,
    Field(discriminator="type"),
]


class SinksConfig(_Strict):
    good: SinkConfig = StdoutSinkConfig()
    bad: SinkConfig = StdoutSinkConfig()
    # Good-stream records: one payload each ("none", like Snowplow's collector) or compressed
    # framed batches ("gzip"/"zstd"; read by Snowplow enrich >= 6.1 and by plowline-enrich).
    framing: Framing = Framing.NONE

    @model_validator(mode="after")
    def _s3_framing(self) -> SinksConfig:
        if self.good.type == "s3" and self.framing is not Framing.NONE:
            raise ValueError(
                "sinks.framing must be 'none' with an s3 good sink (its objects are already "
                "compressed framed batches)"
            )
        return self


class LoggingConfig(_Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = False


class MetricsConfig(_Strict):
    enabled: bool = True


class CollectorConfig(_Strict):
    http: HttpConfig = HttpConfig()
    # Custom paths: {"/com.acme/track" = "/com.snowplowanalytics.snowplow/tp2"}.
    paths: dict[str, str] = {}
    cookie: CookieConfig = CookieConfig()
    do_not_track_cookie: DoNotTrackCookieConfig = DoNotTrackCookieConfig()
    cors: CorsConfig = CorsConfig()
    redirect: RedirectConfig = RedirectConfig()
    cross_domain: CrossDomainConfig = CrossDomainConfig()
    root_response: RootResponseConfig = RootResponseConfig()
    robots_txt: str = DEFAULT_ROBOTS
    limits: LimitsConfig = LimitsConfig()
    buffer: BufferConfig = BufferConfig()
    sinks: SinksConfig = SinksConfig()
    logging: LoggingConfig = LoggingConfig()
    metrics: MetricsConfig = MetricsConfig()

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        for source, target in value.items():
            if target not in TRACKER_PATHS:
                raise ValueError(
                    f"{source!r} maps to {target!r}; targets must be one of "
                    f"{', '.join(TRACKER_PATHS)}"
                )
            if not re.fullmatch(r"/[^/]+/[^/]+", source):
                raise ValueError(f"custom path {source!r} must have two segments: /vendor/name")
        return value


def _env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Nested dict from ``PLOWLINE_COLLECTOR_A__B=value`` variables."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
        node = tree
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name}: {key!r} is both a value and a section")
            node = child
        node[keys[-1]] = _env_value(raw)
    return tree


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _readable(exc: ValidationError, source: str) -> ConfigError:
    lines = [f"invalid collector configuration ({source}):"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return ConfigError("\n".join(lines))


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> CollectorConfig:
    """Read the TOML file (if any), apply environment overrides, validate."""
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        source = str(path)
    overrides = env_overrides(os.environ if environ is None else environ)
    if overrides:
        data = _merge(data, overrides)
        source += " + environment"
    try:
        return CollectorConfig.model_validate(data)
    except ValidationError as exc:
        raise _readable(exc, source) from None

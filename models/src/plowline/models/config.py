"""Settings of a model run, validated once so the SQL only ever sees known-good values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

EntityMode = Literal["auto", "columns", "jsonb"]


# dbt-snowplow-web's user-agent bot list (its SIMILAR TO alternatives, spelled out).
BOT_PATTERNS = (
    "bot",
    "crawl",
    "slurp",
    "spider",
    "archiv",
    "spinn",
    "sniff",
    "seo",
    "audit",
    "survey",
    "pingdom",
    "worm",
    "capture",
    "browsershots",
    "screenshots",
    "analyz",
    "index",
    "thumb",
    "check",
    "facebook",
    "PingdomBot",
    "PhantomJS",
    "YandexBot",
    "Twitterbot",
    "a_archiver",
    "facebookexternalhit",
    "Bingbot",
    "BingPreview",
    "Googlebot",
    "Baiduspider",
    "360Spider",
    "360User-agent",
    "semalt",
)


class ConfigError(ValueError):
    """A setting is out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class ModelConfig:
    # Events whose collector_tstamp is at most this far behind the high-water mark of the
    # previous run are still picked up (their sessions are rebuilt).
    lookback: timedelta = timedelta(hours=6)
    # Page ping settings of the trackers (Snowplow's defaults: first ping after 5 s, then 10 s).
    heartbeat_s: int = 10
    min_visit_length_s: int = 5
    # How the loader stored the web_page entity: one column per property, or a JSON column;
    # auto looks at the table.
    entities: EntityMode = "auto"
    # Only events of these app_ids are modelled; empty: every app_id (dbt-snowplow-web's
    # snowplow__app_id, default []).
    app_ids: tuple[str, ...] = ()
    # Events sent more than this many days after they were created (dvce_sent_tstamp -
    # dvce_created_tstamp) are not modelled (dbt-snowplow-web's snowplow__days_late_allowed,
    # default 3). Events missing either device time are kept.
    days_late_allowed: int = 3
    # Leave out events whose useragent is empty or holds one of BOT_PATTERNS (case as
    # written), as dbt-snowplow-web's snowplow__ua_bot_filter (default true).
    bot_filter: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.app_ids, tuple) or not all(
            isinstance(a, str) and a and len(a) <= 255 and "\x00" not in a for a in self.app_ids
        ):
            raise ConfigError(
                f"app_ids must be a tuple of non-empty strings of at most 255 characters,"
                f" got {self.app_ids!r}"[:300]
            )
        if self.lookback < timedelta(0):
            raise ConfigError("lookback must not be negative")
        late = self.days_late_allowed
        if isinstance(late, bool) or not isinstance(late, int) or not 0 <= late <= 36500:
            raise ConfigError(f"days_late_allowed must be an integer from 0 to 36500, got {late!r}")
        for name in ("heartbeat_s", "min_visit_length_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 3600:
                raise ConfigError(f"{name} must be an integer from 1 to 3600, got {value!r}")
        if self.entities not in ("auto", "columns", "jsonb"):
            raise ConfigError(
                f"entities must be 'auto', 'columns' or 'jsonb', got {self.entities!r}"
            )

"""Deterministic web traffic as enriched TSV lines (for the tests and the benchmark).

Users visit in sessions; a session has page views, each followed by page pings every
heartbeat and sometimes a link click; every event carries the page's web_page entity. Lines
come back in *load order*: sorted by collector_tstamp, except that a fraction of events
arrive late (loaded after newer events), which the incremental model must absorb.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plowline.storage.atomic import index_of
from plowline.storage.testing.events import contexts, event_fields, unstruct

EPOCH = datetime(2026, 11, 1, 0, 0, 0, tzinfo=UTC)
WEB_PAGE_URI = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
LINK_CLICK_URI = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"

# (page_referrer, refr_urlhost, refr_medium, refr_source, refr_term, mkt_medium, mkt_source,
#  mkt_campaign): the ways a session starts.
SOURCES: tuple[tuple[str | None, ...], ...] = (
    (None, None, None, None, None, None, None, None),
    ("https://www.google.com/", "www.google.com", "search", "Google", "boots", None, None, None),
    ("https://www.google.com/", "www.google.com", "search", "Google", None, "cpc", "google", "w48"),
    ("https://t.co/x", "t.co", "social", "Twitter", None, None, None, None),
    ("https://blog.example.net/post", "blog.example.net", "unknown", None, None, None, None, None),
    (None, None, None, None, None, "email", "newsletter", "nov"),
    ("https://ads.example.org/", "ads.example.org", "unknown", None, None, "display", "dsp", "x"),
)
COUNTRIES = (("GB", "ENG", "London"), ("FR", "IDF", "Paris"), ("US", "CA", "San Jose"), None)


def _tstamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


@dataclass
class _User:
    duid: str
    sessions: int = 0
    user_id: str | None = None
    geo: tuple[str, str, str] | None = None


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.template = event_fields(random.Random(0), 0)  # noqa: S311 - test data
        for name in ("unstruct_event", "derived_contexts", "contexts", "se_value"):
            self.template[index_of(name)] = ""
        self.index = {n: index_of(n) for n in _NAMES}

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def event(self, kind: str, t: datetime, values: dict[str, object]) -> list[str]:
        f = list(self.template)
        put = self.index
        f[put["event_id"]] = self.uuid()
        f[put["event"]] = "unstruct" if kind == "link_click" else kind
        f[put["event_name"]] = kind
        f[put["event_version"]] = "1-0-1" if kind == "link_click" else "1-0-0"
        for name, when in (
            ("collector_tstamp", t),
            ("etl_tstamp", t + timedelta(seconds=2)),
            ("dvce_created_tstamp", t - timedelta(milliseconds=150)),
            ("dvce_sent_tstamp", t - timedelta(milliseconds=50)),
            ("derived_tstamp", t - timedelta(milliseconds=100)),
        ):
            f[put[name]] = _tstamp(when)
        for name, value in values.items():
            f[put[name]] = "" if value is None else str(value)
        return f


_NAMES = [
    "event_id",
    "event",
    "event_name",
    "network_userid",
    "event_version",
    "collector_tstamp",
    "etl_tstamp",
    "dvce_created_tstamp",
    "dvce_sent_tstamp",
    "derived_tstamp",
    "domain_userid",
    "domain_sessionid",
    "domain_sessionidx",
    "user_id",
    "page_url",
    "page_title",
    "page_urlpath",
    "page_urlquery",
    "page_referrer",
    "refr_urlhost",
    "refr_urlscheme",
    "refr_urlport",
    "refr_urlpath",
    "refr_medium",
    "refr_source",
    "refr_term",
    "mkt_medium",
    "mkt_source",
    "mkt_campaign",
    "pp_xoffset_min",
    "pp_xoffset_max",
    "pp_yoffset_min",
    "pp_yoffset_max",
    "doc_width",
    "doc_height",
    "geo_country",
    "geo_region",
    "geo_city",
    "contexts",
    "unstruct_event",
]


def _session(b: _Builder, user: _User, start: datetime) -> Iterator[tuple[datetime, list[str]]]:
    rng = b.rng
    user.sessions += 1
    sid = b.uuid()
    source = SOURCES[rng.randrange(len(SOURCES))]
    t = start
    previous_url: str | None = None
    logs_in = user.user_id is None and rng.random() < 0.15
    for view in range(1 + min(int(rng.expovariate(0.5)), 7)):
        page = rng.randrange(40)
        url = f"https://shop.example.com/p/{page}"
        pv_id = b.uuid()
        if logs_in and view == 1:
            user.user_id = f"user-{user.duid[5:]}"
        geo = user.geo or (None, None, None)
        common: dict[str, object] = {
            "domain_userid": user.duid,
            "network_userid": f"nuid-{user.duid[5:]}",
            "domain_sessionid": sid,
            "domain_sessionidx": user.sessions,
            "user_id": user.user_id,
            "page_url": url,
            "page_title": f"Product {page}",
            "page_urlpath": f"/p/{page}",
            "page_urlquery": None,
            "doc_width": 1280,
            "doc_height": 720 + 400 * (page % 5),
            "geo_country": geo[0],
            "geo_region": geo[1],
            "geo_city": geo[2],
            "contexts": contexts({"schema": WEB_PAGE_URI, "data": {"id": pv_id}}),
        }
        if view == 0:
            refr = source
        else:
            refr = (previous_url, "shop.example.com", "internal", None, None, None, None, None)
        for name, value in zip(
            (
                "page_referrer",
                "refr_urlhost",
                "refr_medium",
                "refr_source",
                "refr_term",
                "mkt_medium",
                "mkt_source",
                "mkt_campaign",
            ),
            refr,
            strict=True,
        ):
            common[name] = value
        if refr[1]:
            common["refr_urlscheme"] = "https"
            common["refr_urlport"] = 443
            common["refr_urlpath"] = "/"
        yield t, b.event("page_view", t, common)
        pings = min(int(rng.expovariate(0.25)), 30)
        ping_t = t + timedelta(seconds=5 + rng.random())
        depth = 0
        for _ in range(pings):
            depth = min(depth + rng.randrange(0, 300), int(common["doc_height"]))  # type: ignore[call-overload]
            yield (
                ping_t,
                b.event(
                    "page_ping",
                    ping_t,
                    common
                    | {
                        "pp_xoffset_min": 0,
                        "pp_xoffset_max": rng.choice((0, 0, 40)),
                        "pp_yoffset_min": 0,
                        "pp_yoffset_max": depth,
                    },
                ),
            )
            ping_t += timedelta(seconds=10 + rng.random() * 0.5)
        if rng.random() < 0.2:
            click_t = ping_t - timedelta(seconds=3)
            yield (
                click_t,
                b.event(
                    "link_click",
                    click_t,
                    common
                    | {
                        "unstruct_event": unstruct(
                            LINK_CLICK_URI, {"targetUrl": f"https://example.org/{page}"}
                        )
                    },
                ),
            )
        previous_url = url
        t = ping_t + timedelta(seconds=rng.randrange(2, 90))


def web_events(
    count: int,
    *,
    seed: int = 1,
    start: datetime = EPOCH,
    span: timedelta = timedelta(days=1),
    late_fraction: float = 0.02,
    max_late: timedelta = timedelta(hours=1),
    users: int | None = None,
) -> list[bytes]:
    """About `count` enriched TSV lines (whole sessions, so a few more), in load order."""
    rng = random.Random(seed)  # noqa: S311 - test data
    b = _Builder(rng)
    people = [
        _User(f"duid-{i:06d}", geo=COUNTRIES[i % len(COUNTRIES)])
        for i in range(users or max(1, count // 60))
    ]
    timed: list[tuple[datetime, datetime, list[str]]] = []
    sessions_needed = max(1, count // 10)
    starts = sorted(
        start + timedelta(seconds=rng.random() * span.total_seconds())
        for _ in range(sessions_needed)
    )
    for session_start in starts:
        if len(timed) >= count:
            break
        user = people[rng.randrange(len(people))]
        for t, fields in _session(b, user, session_start):
            late = rng.random() < late_fraction
            arrival = t + (max_late * rng.random() if late else timedelta(0))
            timed.append((arrival, t, fields))
    timed.sort(key=lambda x: (x[0], x[1]))
    return ["\t".join(f).encode("utf-8") for _, _, f in timed]


def with_fields(line: bytes, **changes: str) -> bytes:
    """A copy of a line with some fields replaced by name."""
    parts = line.decode("utf-8").split("\t")
    for name, value in changes.items():
        parts[index_of(name)] = value
    return "\t".join(parts).encode("utf-8")


def field(line: bytes, name: str) -> str:
    return line.decode("utf-8").split("\t")[index_of(name)]


def web_page(page_view_id: str) -> str:
    """The contexts field holding one web_page entity."""
    return contexts({"schema": WEB_PAGE_URI, "data": {"id": page_view_id}})


def fixture_events() -> list[bytes]:
    """The unit-test fixture: a morning of traffic plus the awkward cases, in load order.

    Awkward cases: a duplicated event (loaded twice), a page ping whose page view never
    arrived, an event without domain_userid, and a page view without a web_page entity.
    """
    lines = web_events(
        160,
        seed=11,
        span=timedelta(hours=3),
        late_fraction=0.1,
        max_late=timedelta(minutes=30),
        users=6,
    )
    views = [ln for ln in lines if field(ln, "event") == "page_view"]
    pings = [ln for ln in lines if field(ln, "event") == "page_ping"]
    orphan = with_fields(
        pings[3],
        event_id="00000000-0000-4000-8000-000000000001",
        contexts=web_page("00000000-0000-4000-8000-0000000000aa"),
    )
    anonymous = with_fields(
        views[5],
        event_id="00000000-0000-4000-8000-000000000002",
        domain_userid="",
        contexts=web_page("00000000-0000-4000-8000-0000000000bb"),
    )
    no_entity = with_fields(views[7], event_id="00000000-0000-4000-8000-000000000003", contexts="")
    extra = [orphan, anonymous, no_entity, views[10]]  # views[10]: the duplicate
    out = list(lines)
    for i, line in enumerate(extra):
        out.insert(len(out) * (i + 2) // 6, line)
    return out


def as_json(line: bytes) -> str:
    """A line's fields as compact JSON (handy when a test prints a failing event)."""
    return json.dumps(line.decode("utf-8").split("\t"))


def read_lines(path: Path) -> list[bytes]:
    """Enriched TSV lines of a fixture file (one event a line)."""
    return [ln for ln in path.read_bytes().split(b"\n") if ln]


def slices(lines: list[bytes], count: int) -> list[list[bytes]]:
    """`count` contiguous slices of the lines, in load order, as equal as can be."""
    bounds = [len(lines) * i // count for i in range(count + 1)]
    return [lines[bounds[i] : bounds[i + 1]] for i in range(count)]


# Ways a second copy of an event (same event_id, collector_tstamp and entities) may differ
# from the first: 0 is an exact duplicate (what a tracker retry or an at-least-once stream
# makes); the others change a field the model reads (what a replay after a fix may make).
COPY_VARIANTS: tuple[dict[str, str], ...] = (
    {},
    {"useragent": "Mozilla/5.0 (copy)"},
    {"page_url": "https://www.example.com/copy", "page_urlpath": "/copy"},
    {"br_viewwidth": "1", "doc_width": "2"},
    {"domain_userid": "duid-copy"},
    {"derived_tstamp": ""},
    {"geo_country": "", "geo_city": "Copyville"},
)


def with_copies(lines: list[bytes], picks: list[tuple[int, int]]) -> list[bytes]:
    """The lines plus, for each (index, variant) pick, a copy of lines[index % len] changed
    as COPY_VARIANTS[variant % len] says (appended, in pick order)."""
    out = list(lines)
    for index, variant in picks:
        line = lines[index % len(lines)]
        out.append(with_fields(line, **COPY_VARIANTS[variant % len(COPY_VARIANTS)]))
    return out

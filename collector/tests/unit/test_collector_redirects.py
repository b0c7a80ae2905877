"""The redirect checker against hostile targets (issue 15.12, 15.13): properties, not examples.

Whatever the target, an accepted redirect answers a Location of one strict shape,
``http(s)://<allowed host>[:port]/...`` in printable ASCII, so every URL reader (a browser's
WHATWG parser, urllib, a regex) sees the same allowed host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.collector.redirects import InvalidHostPatternError, RedirectPolicy, normalise_pattern
from plowline.collector.testing import Harness, make_harness

ALLOWED = ["allowed.com", "*.sub.allowed.com", "bücher.de", "127.0.0.1"]
POLICY = RedirectPolicy(ALLOWED)
# The only shape an accepted Location may have: scheme, host, optional port, then a path.
STRICT = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?(?:/[\x21-\x7e]*)"
)


def _strictly_allowed(location: str) -> bool:
    match = STRICT.fullmatch(location)
    if match is None:
        return False
    host = match.group("host").removesuffix(".")
    return host in {"allowed.com", "xn--bcher-kva.de", "127.0.0.1"} or (
        host.endswith(".sub.allowed.com") and host != ".sub.allowed.com"
    )


def _assert_safe(target: str) -> None:
    location = POLICY.location(target)
    if location is None:
        return
    assert _strictly_allowed(location), (target, location)
    assert location.isascii()
    assert location.isprintable()
    # An RFC 3986 reader agrees with the WHATWG one.
    host = (urlsplit(location).hostname or "").removesuffix(".")
    assert _strictly_allowed(f"http://{host}/"), (target, location)


def _mixed_case(text: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda flips: "".join(c.upper() if f else c for c, f in zip(text, flips, strict=True))
    )


def _percent_some(text: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda flips: "".join(
            f"%{ord(c):02X}" if f and c.isascii() else c for c, f in zip(text, flips, strict=True)
        )
    )


HOSTS = st.sampled_from(
    [
        "allowed.com",
        "evil.com",
        "x.sub.allowed.com",
        "sub.allowed.com",
        "allowed.com.evil.com",
        "evil.com.allowed.com",
        "evilallowed.com",
        "bücher.de",
        "xn--bcher-kva.de",
        "b\u00fccher.de.evil.com",
        "allowed\u3002com",  # ideographic full stop: a dot after IDNA mapping
        "ALLOWED.COM.",
        "127.0.0.1",
        "0x7f.0.0.1",
        "2130706433",
        "[::1]",
        "evil.com:443",
        "allowed.com:8080",
        "",
    ]
).flatmap(lambda host: st.one_of(st.just(host), _mixed_case(host), _percent_some(host)))

SCHEMES = st.sampled_from(["http", "https", "ftp", "javascript", "data", "file", "ws", ""]).flatmap(
    _mixed_case
)
SEPARATORS = st.sampled_from(
    ["://", ":\\\\", ":/\\", ":\\/", ":", ":/", ":///", "//", ":\t//", ": //", "://\n", "%3A//"]
)
# What may stand between two hosts to make one look like userinfo or a path to some parser.
CONFUSERS = st.sampled_from(
    ["@", "\\@", "%40", "%5C@", "\\", "/@", "#@", "?@", "\t@", "\n@", ":@", ";@", "@@", "%2F@"]
)
TAILS = st.sampled_from(
    ["", "/", "/path", "\\path", "?q=1", "#frag", "/a?b=${SP_NUID}", "/%2e%2e/", "\t/", "\x00"]
)


@settings(max_examples=1500, deadline=None)
@given(
    scheme=SCHEMES,
    sep=SEPARATORS,
    decoy=st.one_of(st.none(), st.tuples(HOSTS, CONFUSERS)),
    host=HOSTS,
    tail=TAILS,
    pad=st.sampled_from(["", " ", "\t", "\x01", "\u00a0"]),
)
def test_hostile_targets_only_ever_yield_an_allowed_location(
    scheme: str, sep: str, decoy: tuple[str, str] | None, host: str, tail: str, pad: str
) -> None:
    prefix = "" if decoy is None else decoy[0] + decoy[1]
    _assert_safe(f"{pad}{scheme}{sep}{prefix}{host}{tail}{pad}")


@pytest.fixture(scope="module")
def service() -> Iterator[Harness]:
    harness = make_harness(
        {"redirect": {"enabled": True, "allowed_hosts": ALLOWED}, "cookie": {"enabled": False}}
    )
    yield harness
    harness.close()


@settings(max_examples=600, deadline=None)
@given(
    scheme=SCHEMES,
    sep=SEPARATORS,
    decoy=st.one_of(st.none(), st.tuples(HOSTS, CONFUSERS)),
    host=HOSTS,
    tail=TAILS,
)
def test_hostile_targets_through_the_collector_only_redirect_to_allowed_hosts(
    service: Harness, scheme: str, sep: str, decoy: tuple[str, str] | None, host: str, tail: str
) -> None:
    target = f"{scheme}{sep}{'' if decoy is None else decoy[0] + decoy[1]}{host}{tail}"
    response = service.request("GET", "/r/tp2", query=f"u={quote(target, safe='')}")
    location = response.header("location")
    if response.status == 302:
        assert location is not None
        assert _strictly_allowed(location), (target, location)
    else:
        assert (response.status, location) == (400, None)


@settings(max_examples=800, deadline=None)
@given(st.text(max_size=60))  # lone surrogates too
def test_any_text_around_an_allowed_host_yields_nothing_unsafe(noise: str) -> None:
    for target in (
        f"https://{noise}allowed.com/",
        f"https://allowed.com{noise}/",
        f"https:{noise}//allowed.com/",
        f"https://evil.com{noise}allowed.com/",
        noise,
    ):
        _assert_safe(target)


@settings(max_examples=500, deadline=None)
@given(
    host=st.sampled_from(["allowed.com", "a.sub.allowed.com", "Bücher.de", "127.0.0.1"]),
    path=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]),
        max_size=40,
    ),
    scheme=st.sampled_from(["http", "https", "HTTPS"]),
)
def test_allowed_targets_are_kept(host: str, path: str, scheme: str) -> None:
    """No over-refusal: any path or query on an allowed host is redirected, made ASCII."""
    path = path.replace("#", "").replace("?", "").replace("\\", "/")
    location = POLICY.location(f"{scheme}://{host}/{path}")
    assert location is not None
    assert _strictly_allowed(location)


MACRO_CONFIG = {
    "redirect": {"enabled": True, "allowed_hosts": ["allowed.com"], "macro": "${SP_NUID}"},
    "cookie": {"enabled": False},
}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    template=st.sampled_from(
        [
            "https://${SP_NUID}@allowed.com/",
            "https://${SP_NUID}allowed.com/",
            "https://allowed.com${SP_NUID}/",
            "https:${SP_NUID}//allowed.com/",
            "${SP_NUID}",
            "https://allowed.com/?id=${SP_NUID}",
            "https://allowed.com/${SP_NUID}",
        ]
    ),
    nuid=st.one_of(
        st.sampled_from(["evil.com/", "evil.com\\", "evil.com#", "evil.com?", "//evil.com/"]),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
    ),
)
def test_macro_substitution_never_yields_an_outside_location(template: str, nuid: str) -> None:
    harness = make_harness(MACRO_CONFIG)
    try:
        query = f"u={quote(template, safe='')}&nuid={quote(nuid, safe='')}"
        response = harness.request("GET", "/r/tp2", query=query)
        location = response.header("location")
        if response.status == 302:
            assert location is not None
            assert STRICT.fullmatch(location), location
            assert (urlsplit(location).hostname or "").removesuffix(".") == "allowed.com"
        else:
            assert (response.status, location) == (400, None)
    finally:
        harness.close()


@pytest.mark.parametrize(
    ("entry", "normal"),
    [
        ("Allowed.COM", "allowed.com"),
        ("*.Sub.Allowed.com", "*.sub.allowed.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("allowed.com.", "allowed.com"),
        ("[::1]", "[::1]"),
    ],
)
def test_allow_list_entries_are_normalised_as_a_browser_reads_hosts(
    entry: str, normal: str
) -> None:
    assert normalise_pattern(entry) == normal


@pytest.mark.parametrize(
    "entry", ["", "evil.com/", "a@b.com", "a.com:80", "http://a.com", "a b.com", "*.", "x\\y"]
)
def test_allow_list_entries_that_are_not_hosts_are_config_errors(entry: str) -> None:
    with pytest.raises(InvalidHostPatternError):
        normalise_pattern(entry)

"""The Iglu resolver: lookup order, caching with TTL, lookup history; local repositories."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from plowline.spec.data import data_path
from plowline.spec.errors import (
    ClientFailureError,
    InvalidIgluUriError,
    RegistryError,
    RepoFailureError,
    ResolutionError,
    SchemaNotFoundError,
)
from plowline.spec.iglu import SchemaKey
from plowline.spec.registries import (
    EmbeddedRegistry,
    HttpRegistry,
    InMemoryRegistry,
    Registry,
    check_schema,
    dump_schema,
)
from plowline.spec.resolver import (
    MAX_HISTORY_ERRORS,
    SPEC_REGISTRY_NAME,
    LookupHistory,
    Resolver,
    format_timestamp,
    resolution_error_json,
)

ACME = SchemaKey.parse("iglu:com.acme/thing/jsonschema/1-0-0")


def schema_for(key: SchemaKey, **extra: Any) -> dict[str, Any]:
    return {
        "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
        "self": {
            "vendor": key.vendor,
            "name": key.name,
            "format": key.format,
            "version": str(key.version),
        },
        "type": "object",
        **extra,
    }


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Answer = dict[str, Any] | RegistryError | Exception


class ScriptedRegistry(Registry):
    """Answers from a script and counts how often it is asked."""

    class_priority: ClassVar[int] = 2
    kind: ClassVar[str] = "scripted"

    def __init__(
        self,
        name: str,
        answer: Answer | Callable[[SchemaKey], Answer],
        *,
        priority: float = 0,
        vendor_prefixes: tuple[str, ...] = (),
        class_priority: int = 2,
    ) -> None:
        super().__init__(name, priority=priority, vendor_prefixes=vendor_prefixes)
        self.answer = answer
        self.calls: list[SchemaKey] = []
        self.class_priority = class_priority  # type: ignore[misc]

    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        self.calls.append(key)
        answer = self.answer(key) if callable(self.answer) else self.answer
        if isinstance(answer, Exception):
            raise answer
        return answer


def resolver(*registries: Registry, **kwargs: Any) -> Resolver:
    return Resolver(registries, include_spec_schemas=False, **kwargs)


# --- Resolver: order --------------------------------------------------------------------------


def test_spec_schemas_are_an_implicit_first_repository() -> None:
    other = InMemoryRegistry("mine")
    with_spec = Resolver([other])
    assert with_spec.registries[0].name == SPEC_REGISTRY_NAME
    assert isinstance(with_spec.registries[0], EmbeddedRegistry)
    assert with_spec.registries[0].root == data_path("schemas")
    assert with_spec.registries[1] is other
    assert resolver(other).registries == (other,)


def test_repository_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        resolver(InMemoryRegistry("a"), InMemoryRegistry("a"))


def test_order_is_vendor_prefix_then_class_then_priority() -> None:
    http_match = HttpRegistry("http-acme", "http://127.0.0.1:9", vendor_prefixes=["com.acme"])
    embedded_low = ScriptedRegistry("embedded-p5", {}, priority=5)
    embedded_high = ScriptedRegistry("embedded-p1", {}, priority=1)
    memory = ScriptedRegistry("memory", {}, priority=9, class_priority=1)
    http_other = HttpRegistry("http-other", "http://127.0.0.1:9", priority=-3)
    embedded_tie = ScriptedRegistry("embedded-p1-later", {}, priority=1)
    r = resolver(http_other, embedded_low, http_match, embedded_high, memory, embedded_tie)
    names = [reg.name for reg in r.prioritize(ACME)]
    assert names == [
        "http-acme",  # vendor prefix matches: first, whatever its class
        "memory",  # class 1
        "embedded-p1",  # class 2, priority 1, configured before its tie
        "embedded-p1-later",
        "embedded-p5",
        "http-other",  # class 100
    ]
    other_vendor = SchemaKey.parse("iglu:org.example/thing/jsonschema/1-0-0")
    assert r.prioritize(other_vendor)[0].name == "memory"


def test_vendor_prefix_is_a_prefix_match() -> None:
    reg = ScriptedRegistry("r", {}, vendor_prefixes=("com.acme",))
    assert reg.matches_vendor("com.acme")
    assert reg.matches_vendor("com.acme.marketing")
    assert not reg.matches_vendor("com.acm")
    assert not ScriptedRegistry("none", {}).matches_vendor("com.acme")


def test_first_hit_wins_and_later_repositories_are_not_asked() -> None:
    missing = ScriptedRegistry("a", SchemaNotFoundError(), priority=0)
    found = ScriptedRegistry("b", schema_for(ACME), priority=1)
    never = ScriptedRegistry("c", schema_for(ACME, title="other"), priority=2)
    r = resolver(never, found, missing)
    assert r.lookup(ACME) == schema_for(ACME)
    assert (len(missing.calls), len(found.calls), len(never.calls)) == (1, 1, 0)


# --- Resolver: caching and history ------------------------------------------------------------


def test_found_schemas_are_cached_until_the_ttl() -> None:
    clock = FakeClock()
    reg = ScriptedRegistry("r", schema_for(ACME))
    r = resolver(reg, cache_ttl=600, clock=clock)
    first = r.lookup(ACME)
    assert r.lookup(ACME) is first
    clock.now += 599
    r.lookup(ACME)
    assert len(reg.calls) == 1
    clock.now += 1
    r.lookup(ACME)
    assert len(reg.calls) == 2


def test_without_ttl_schemas_stay_cached() -> None:
    clock = FakeClock()
    reg = ScriptedRegistry("r", schema_for(ACME))
    r = resolver(reg, clock=clock)
    r.lookup(ACME)
    clock.now += 10**8
    r.lookup(ACME)
    assert len(reg.calls) == 1
    assert r.cache_expiry() == float("inf")


def test_cache_size_zero_asks_every_time() -> None:
    reg = ScriptedRegistry("r", schema_for(ACME))
    r = resolver(reg, cache_size=0)
    r.lookup(ACME)
    r.lookup(ACME)
    assert len(reg.calls) == 2
    assert r.cache_expiry() == float("-inf")


def test_cache_is_bounded_in_size() -> None:
    reg = ScriptedRegistry("r", lambda key: schema_for(key))
    r = resolver(reg, cache_size=2)
    keys = [SchemaKey.parse(f"iglu:com.acme/t{i}/jsonschema/1-0-0") for i in range(3)]
    for key in keys:
        r.lookup(key)
    r.lookup(keys[0])  # evicted by keys[2]: asked again
    r.lookup(keys[2])  # still cached
    assert [k.name for k in reg.calls] == ["t0", "t1", "t2", "t0"]


def test_clear_cache() -> None:
    reg = ScriptedRegistry("r", schema_for(ACME))
    r = resolver(reg)
    r.lookup(ACME)
    r.clear_cache()
    r.lookup(ACME)
    assert len(reg.calls) == 2


def test_not_found_everywhere_is_cached_until_the_ttl() -> None:
    clock = FakeClock()
    a = ScriptedRegistry("a", SchemaNotFoundError())
    b = ScriptedRegistry("b", SchemaNotFoundError(), priority=1)
    r = resolver(a, b, cache_ttl=60, clock=clock)
    with pytest.raises(ResolutionError) as first:
        r.lookup(ACME)
    assert first.value.is_not_found
    assert list(first.value.lookup_history) == ["a", "b"]
    assert first.value.lookup_history["a"] == LookupHistory((SchemaNotFoundError(),), 1, clock.now)
    with pytest.raises(ResolutionError) as second:
        r.lookup(ACME)
    assert second.value.lookup_history == first.value.lookup_history
    assert (len(a.calls), len(b.calls)) == (1, 1)
    clock.now += 60
    with pytest.raises(ResolutionError):
        r.lookup(ACME)
    assert (len(a.calls), len(b.calls)) == (2, 2)


def test_other_failures_are_retried_and_their_history_accumulates() -> None:
    clock = FakeClock()
    flaky = ScriptedRegistry("flaky", RepoFailureError("HTTP 500"))
    missing = ScriptedRegistry("missing", SchemaNotFoundError(), priority=1)
    r = resolver(flaky, missing, clock=clock)
    with pytest.raises(ResolutionError) as first:
        r.lookup(ACME)
    assert not first.value.is_not_found
    clock.now += 5
    flaky.answer = RepoFailureError("timed out after 5s")
    with pytest.raises(ResolutionError) as second:
        r.lookup(ACME)
    history = second.value.lookup_history["flaky"]
    assert history.attempts == 2
    assert history.errors == (RepoFailureError("HTTP 500"), RepoFailureError("timed out after 5s"))
    assert history.last_attempt == clock.now
    # A repository that said NotFound is not asked again before the entry expires (Iglu).
    assert second.value.lookup_history["missing"].attempts == 1
    assert second.value.lookup_history["missing"].errors == (SchemaNotFoundError(),)
    assert len(missing.calls) == 1
    clock.now += 5
    # Once the repository recovers, the schema is served and cached.
    flaky.answer = schema_for(ACME)
    assert r.lookup(ACME) == schema_for(ACME)
    r.lookup(ACME)
    assert len(flaky.calls) == 3


def test_a_failing_repository_does_not_hide_a_later_one() -> None:
    broken = ScriptedRegistry("broken", RepoFailureError("garbage"))
    good = ScriptedRegistry("good", schema_for(ACME), priority=1)
    assert resolver(broken, good).lookup(ACME) == schema_for(ACME)


def test_unexpected_exceptions_become_repo_failures() -> None:
    buggy = ScriptedRegistry("buggy", KeyError("boom"))
    with pytest.raises(ResolutionError) as caught:
        resolver(buggy).lookup(ACME)
    (error,) = caught.value.lookup_history["buggy"].errors
    assert isinstance(error, RepoFailureError)
    assert "unexpected KeyError" in error.message


def test_no_repository_at_all() -> None:
    with pytest.raises(ResolutionError, match="no repository configured") as caught:
        resolver().lookup(ACME)
    assert caught.value.lookup_history == {}


def test_lookup_uri() -> None:
    r = resolver(InMemoryRegistry("m", [schema_for(ACME)]))
    assert r.lookup_uri(ACME.uri)["self"]["name"] == "thing"
    with pytest.raises(InvalidIgluUriError):
        r.lookup_uri("iglu:nope")


def test_resolution_error_renders_like_iglu() -> None:
    clock = FakeClock(1_700_000_000.123)
    r = resolver(ScriptedRegistry("Iglu Central", SchemaNotFoundError()), clock=clock)
    with pytest.raises(ResolutionError) as caught:
        r.lookup(ACME)
    assert resolution_error_json(caught.value) == {
        "error": "ResolutionError",
        "lookupHistory": [
            {
                "repository": "Iglu Central",
                "errors": [{"error": "NotFound"}],
                "attempts": 1,
                "lastAttempt": "2023-11-14T22:13:20.123Z",
            }
        ],
    }
    assert "iglu:com.acme/thing/jsonschema/1-0-0 cannot be resolved" in str(caught.value)
    assert "Iglu Central: NotFound after 1 attempt(s)" in str(caught.value)


def test_lookup_history_keeps_distinct_errors_up_to_a_bound() -> None:
    history = LookupHistory((), 0, 0.0)
    for i in range(MAX_HISTORY_ERRORS + 10):
        history = history.record(RepoFailureError(f"e{i % (MAX_HISTORY_ERRORS + 5)}"), float(i))
    assert len(history.errors) == MAX_HISTORY_ERRORS
    assert history.attempts == MAX_HISTORY_ERRORS + 10
    assert history.last_attempt == MAX_HISTORY_ERRORS + 9
    same = (
        LookupHistory((), 0, 0.0).record(SchemaNotFoundError(), 1).record(SchemaNotFoundError(), 2)
    )
    assert same.errors == (SchemaNotFoundError(),)


def test_registry_errors_as_json_and_text() -> None:
    assert SchemaNotFoundError().to_json() == {"error": "NotFound"}
    assert RepoFailureError("x").to_json() == {"error": "RepoFailure", "message": "x"}
    assert ClientFailureError("y").to_json() == {"error": "ClientFailure", "message": "y"}
    assert RepoFailureError("x").describe() == "RepoFailure: x"
    assert SchemaNotFoundError().describe() == "NotFound"
    assert RepoFailureError("x") == RepoFailureError("x") != ClientFailureError("x")
    assert len({RepoFailureError("x"), RepoFailureError("x")}) == 1
    assert repr(RepoFailureError("x")) == "RepoFailureError('x')"


def test_timestamps_are_iso_utc_with_milliseconds() -> None:
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(1_700_000_000.5) == "2023-11-14T22:13:20.500Z"


# --- Repositories -----------------------------------------------------------------------------


def write_schema(root: Path, key: SchemaKey, content: str | dict[str, Any]) -> Path:
    path = root / key.vendor / key.name / key.format / str(key.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_embedded_registry_reads_schema_files(tmp_path: Path) -> None:
    write_schema(tmp_path, ACME, schema_for(ACME))
    reg = EmbeddedRegistry("local", tmp_path)
    assert reg.lookup(ACME) == schema_for(ACME)
    assert reg.file_for(ACME) == tmp_path / "com.acme/thing/jsonschema/1-0-0"
    assert (reg.class_priority, reg.kind) == (2, "embedded")
    assert "local" in repr(reg)


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        ("{not json", RepoFailureError, "is not JSON"),
        ("[1, 2]", RepoFailureError, "is not a JSON Schema"),
        ('{"type": "object"}', RepoFailureError, "no 'self' object"),
        ('{"self": {"vendor": "com.acme"}}', RepoFailureError, "invalid 'self'"),
    ],
)
def test_embedded_registry_rejects_garbage(
    tmp_path: Path, content: str, error: type[RegistryError], message: str
) -> None:
    write_schema(tmp_path, ACME, content)
    with pytest.raises(error, match=message):
        EmbeddedRegistry("local", tmp_path).lookup(ACME)


def test_embedded_registry_rejects_a_schema_that_names_another_key(tmp_path: Path) -> None:
    other = SchemaKey.parse("iglu:com.acme/thing/jsonschema/1-0-1")
    write_schema(tmp_path, ACME, schema_for(other))
    with pytest.raises(RepoFailureError, match=r"declares itself .*1-0-1, not .*1-0-0"):
        EmbeddedRegistry("local", tmp_path).lookup(ACME)


def test_embedded_registry_not_found_cases(tmp_path: Path) -> None:
    reg = EmbeddedRegistry("local", tmp_path)
    with pytest.raises(SchemaNotFoundError):
        reg.lookup(ACME)
    (tmp_path / ACME.path).mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(SchemaNotFoundError):
        reg.lookup(ACME)
    with pytest.raises(SchemaNotFoundError):
        EmbeddedRegistry("gone", tmp_path / "does-not-exist").lookup(ACME)


def test_embedded_registry_size_limit(tmp_path: Path) -> None:
    write_schema(tmp_path, ACME, schema_for(ACME, description="x" * 500))
    with pytest.raises(RepoFailureError, match="over the limit of 100 bytes"):
        EmbeddedRegistry("local", tmp_path, max_bytes=100).lookup(ACME)


def test_embedded_registry_refuses_keys_that_escape_its_folder(tmp_path: Path) -> None:
    escape = SchemaKey.parse("iglu:../thing/jsonschema/1-0-0")
    (tmp_path / "inner").mkdir()
    write_schema(tmp_path / "inner" / "..", SchemaKey.parse("iglu:x/thing/jsonschema/1-0-0"), "{}")
    with pytest.raises(ClientFailureError, match="cannot name a file"):
        EmbeddedRegistry("local", tmp_path / "inner").lookup(escape)


def test_embedded_registry_lists_its_keys(tmp_path: Path) -> None:
    second = SchemaKey.parse("iglu:com.acme/thing/jsonschema/1-0-1")
    write_schema(tmp_path, second, schema_for(second))
    write_schema(tmp_path, ACME, schema_for(ACME))
    (tmp_path / "com.acme/thing/jsonschema/README").write_text("not a schema")
    assert list(EmbeddedRegistry("local", tmp_path).keys()) == [ACME, second]
    assert list(EmbeddedRegistry("none", tmp_path / "missing").keys()) == []


def test_embedded_registry_from_an_iglu_path(tmp_path: Path) -> None:
    write_schema(tmp_path / "schemas", ACME, schema_for(ACME))
    reg = EmbeddedRegistry.from_iglu_path("iglu", tmp_path, priority=3, vendor_prefixes=["com"])
    assert reg.root == tmp_path / "schemas"
    assert (reg.priority, reg.vendor_prefixes) == (3, ("com",))
    assert reg.lookup(ACME)["self"]["version"] == "1-0-0"


def test_in_memory_registry() -> None:
    reg = InMemoryRegistry("mem", [schema_for(ACME)])
    other = SchemaKey.parse("iglu:com.acme/other/jsonschema/2-0-0")
    assert reg.add(schema_for(other)) == other
    assert reg.keys() == [other, ACME]  # sorted
    assert reg.lookup(other)["self"]["name"] == "other"
    with pytest.raises(SchemaNotFoundError):
        reg.lookup(SchemaKey.parse("iglu:com.acme/none/jsonschema/1-0-0"))
    with pytest.raises(InvalidIgluUriError):
        reg.add({"type": "object"})
    assert reg.class_priority == 1


def test_check_schema() -> None:
    assert check_schema(ACME, schema_for(ACME), "here") == schema_for(ACME)
    with pytest.raises(RepoFailureError, match="here is not a JSON Schema"):
        check_schema(ACME, "x", "here")


def test_http_registry_settings_are_checked() -> None:
    reg = HttpRegistry("r", "http://127.0.0.1:8080/api/", apikey="k")
    assert reg.url_for(ACME) == "http://127.0.0.1:8080/api/schemas/com.acme/thing/jsonschema/1-0-0"
    assert (reg.class_priority, reg.kind) == (100, "http")
    with pytest.raises(ValueError, match="must be http"):
        HttpRegistry("r", "ftp://example.com")
    with pytest.raises(ValueError, match="must be http"):
        HttpRegistry("r", "http://")
    with pytest.raises(ValueError, match="invalid port"):
        HttpRegistry("r", "http://127.0.0.1:port")
    with pytest.raises(ValueError, match="timeout"):
        HttpRegistry("r", "http://127.0.0.1", timeout=0)
    with pytest.raises(ClientFailureError):
        reg.lookup(SchemaKey.parse("iglu:../thing/jsonschema/1-0-0"))


def test_dump_schema_is_pretty_json() -> None:
    assert json.loads(dump_schema(schema_for(ACME))) == schema_for(ACME)
    assert "\n  " in dump_schema(schema_for(ACME))

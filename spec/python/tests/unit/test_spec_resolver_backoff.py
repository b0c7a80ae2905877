"""Failed lookups are remembered and retried with the Iglu client's back-off; a lookup budget
bounds the total wait on remote registries (a registry that accepts and never answers)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from plowline.spec.cache import TtlCache
from plowline.spec.errors import RepoFailureError, ResolutionError, SchemaNotFoundError
from plowline.spec.iglu import SchemaKey
from plowline.spec.registries import HttpRegistry, Registry
from plowline.spec.resolver import BUDGET_SPENT, Resolver, backoff

ACME = SchemaKey.parse("iglu:com.acme/thing/jsonschema/1-0-0")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Failing(Registry):
    """A registry that always fails; counts its calls (and the time it was allowed)."""

    class_priority: ClassVar[int] = 100
    kind: ClassVar[str] = "failing"

    def __init__(
        self, name: str, error: Exception, *, remote: bool = False, spend: float = 0
    ) -> None:
        super().__init__(name)
        self.error = error
        self.remote = remote  # type: ignore[misc]
        self.spend = spend
        self.calls: list[SchemaKey] = []
        self.allowed: list[float] = []

    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        self.calls.append(key)
        raise self.error

    def lookup_within(self, key: SchemaKey, seconds: float) -> dict[str, Any]:
        self.allowed.append(seconds)
        time.sleep(min(self.spend, seconds))
        return self.lookup(key)


def resolver(*registries: Registry, **kwargs: Any) -> Resolver:
    return Resolver(registries, include_spec_schemas=False, **kwargs)


def test_backoff_follows_the_iglu_client_curve() -> None:
    assert backoff(0) == pytest.approx(0.501)
    assert backoff(1) == pytest.approx(0.504)
    assert backoff(2) == pytest.approx(0.516)
    assert backoff(5) == pytest.approx(1.524)
    assert backoff(7) == pytest.approx(16.884)
    assert backoff(8) == 60.0  # 500 + 4^8 ms is over the 60 s cap
    assert all(backoff(n) <= 60.0 for n in range(100))


def test_a_failure_is_remembered_until_its_backoff_has_passed() -> None:
    clock = FakeClock()
    broken = Failing("broken", RepoFailureError("timed out after 5s"))
    r = resolver(broken, clock=clock)
    for _ in range(20):
        with pytest.raises(ResolutionError) as caught:
            r.lookup(ACME)
    assert len(broken.calls) == 1  # was 20: every lookup asked again
    assert caught.value.lookup_history["broken"].attempts == 1
    clock.now += backoff(1) - 0.01
    with pytest.raises(ResolutionError):
        r.lookup(ACME)
    assert len(broken.calls) == 1
    clock.now += 0.02
    with pytest.raises(ResolutionError) as caught:
        r.lookup(ACME)
    assert len(broken.calls) == 2
    assert caught.value.lookup_history["broken"].attempts == 2
    clock.now += backoff(2) - 0.01  # the wait grows with the attempts
    with pytest.raises(ResolutionError):
        r.lookup(ACME)
    assert len(broken.calls) == 2


def test_only_the_repositories_due_are_asked_again() -> None:
    clock = FakeClock()
    missing = Failing("missing", SchemaNotFoundError())
    broken = Failing("broken", RepoFailureError("HTTP 503"))
    r = resolver(missing, broken, clock=clock, cache_ttl=600)
    for _ in range(3):
        with pytest.raises(ResolutionError):
            r.lookup(ACME)
        clock.now += 61
    assert len(missing.calls) == 1  # NotFound: not asked again before the entry expires
    assert len(broken.calls) == 3
    clock.now += 600
    with pytest.raises(ResolutionError):
        r.lookup(ACME)
    assert (len(missing.calls), len(broken.calls)) == (2, 4)


def test_a_budget_bounds_the_wait_on_remote_registries() -> None:
    slow = Failing("slow", RepoFailureError("timed out"), remote=True, spend=0.2)
    r = resolver(slow)
    keys = [SchemaKey.parse(f"iglu:com.acme/thing{i}/jsonschema/1-0-0") for i in range(10)]
    errors = []
    with r.lookup_budget(0.3):
        for key in keys:
            with pytest.raises(ResolutionError) as caught:
                r.lookup(key)
            errors.append(caught.value)
    # 0.2 s, then what is left (at most 0.1 s), then nothing: the others are not asked.
    assert 1 <= len(slow.calls) <= 2
    assert slow.allowed[0] == pytest.approx(0.3)
    assert all(seconds <= 0.3 for seconds in slow.allowed)
    (skipped,) = errors[-1].lookup_history["slow"].errors
    assert skipped == RepoFailureError(BUDGET_SPENT)
    assert errors[-1].lookup_history["slow"].attempts == 0
    # A lookup skipped for the budget is not remembered: outside the block it is asked.
    with pytest.raises(ResolutionError):
        r.lookup(keys[-1])
    assert slow.calls[-1] == keys[-1]


def test_budgets_nest_without_extending_the_outer_one() -> None:
    slow = Failing("slow", RepoFailureError("timed out"), remote=True, spend=0.05)
    r = resolver(slow)
    with r.lookup_budget(0.1):
        with r.lookup_budget(10), pytest.raises(ResolutionError):
            r.lookup(ACME)
        assert slow.allowed == [pytest.approx(0.1)]
    with pytest.raises(ValueError, match=">= 0"), r.lookup_budget(-1):
        pass


# --- a real registry that accepts connections and never answers ------------------------------


class HungServer:
    """Listens on 127.0.0.1, accepts every connection, never sends a byte; counts them."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.sock.settimeout(0.05)  # a closed socket does not wake a blocked accept()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    @property
    def connections(self) -> int:
        return len(self.accepted)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def hung() -> Iterator[HungServer]:
    server = HungServer()
    try:
        yield server
    finally:
        server.close()


def test_a_hung_registry_is_asked_once_for_20_lookups(hung: HungServer) -> None:
    registry = HttpRegistry("hung", f"http://127.0.0.1:{hung.port}", timeout=0.3)
    r = Resolver([registry], include_spec_schemas=False, clock=FakeClock())
    for _ in range(20):
        with pytest.raises(ResolutionError) as caught:
            r.lookup(ACME)
    assert hung.connections == 1  # was 20 connections, each waiting the whole timeout
    (error,) = caught.value.lookup_history["hung"].errors
    assert "timed out" in str(error)


def test_a_budget_bounds_the_connections_to_a_hung_registry(hung: HungServer) -> None:
    registry = HttpRegistry("hung", f"http://127.0.0.1:{hung.port}", timeout=0.3)
    r = Resolver([registry], include_spec_schemas=False, clock=FakeClock())
    keys = [SchemaKey.parse(f"iglu:com.acme/thing{i}/jsonschema/1-0-0") for i in range(10)]
    with r.lookup_budget(0.5):
        for key in keys:
            with pytest.raises(ResolutionError):
                r.lookup(key)
    # 0.3 s, then at most the 0.2 s left; a slow machine only makes it fewer.
    assert 1 <= hung.connections <= 2  # was 10


class Switchable(Registry):
    """Serves ``answer`` (a schema or an error to raise); counts its calls."""

    class_priority: ClassVar[int] = 100
    kind: ClassVar[str] = "switchable"

    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        super().__init__("switchable")
        self.answer = answer
        self.calls = 0

    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _schema(description: str) -> dict[str, Any]:
    return {"self": {"vendor": "com.acme", "name": "thing", "format": "jsonschema",
                     "version": "1-0-0"}, "type": "object", "description": description}  # fmt: skip


def test_a_schema_past_its_ttl_is_kept_when_the_refresh_fails() -> None:
    clock = FakeClock()
    registry = Switchable(_schema("v1"))
    r = resolver(registry, clock=clock, cache_ttl=60)
    assert r.lookup(ACME)["description"] == "v1"
    clock.now += 61
    registry.answer = RepoFailureError("timed out after 5s")
    assert r.lookup(ACME)["description"] == "v1"  # the registry is down: keep what we knew
    assert registry.calls == 2
    assert r.lookup(ACME)["description"] == "v1"
    assert registry.calls == 2  # the kept schema got a new TTL: no flood of retries
    clock.now += 61
    registry.answer = SchemaNotFoundError()
    assert r.lookup(ACME)["description"] == "v1"
    clock.now += 61
    registry.answer = _schema("v2")
    assert r.lookup(ACME)["description"] == "v2"  # back: the fresh answer wins
    assert registry.calls == 4


def test_the_cache_can_show_an_expired_entry() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(2, 10, clock)
    assert cache.peek("a") == (None, False)
    cache.put("a", 1)
    assert cache.peek("a") == (1, True)
    clock.now += 10
    assert cache.peek("a") == (1, False)
    assert cache.get("a") is None  # get still hides (and drops) it
    assert cache.peek("a") == (None, False)

"""An Iglu resolver: ask repositories in Iglu's order, cache answers, keep a lookup history.

Order (iglu-scala-client ``Resolver.prioritize``): repositories whose vendor prefix
matches the schema's vendor first, then by class (in-memory 1, embedded 2, HTTP 100), then by
configured priority, lowest first; ties keep the configured order. The first repository that
has the schema wins. Plowline's own schemas (``spec/schemas``) are an implicit embedded
repository listed first, like the Iglu client's bootstrap repository.

Caching: schemas and "every repository said NotFound" results are kept up to ``cache_ttl``
seconds in an LRU of ``cache_size`` entries; a schema past its TTL is looked up again, and
kept (with a new TTL) when that lookup fails, so a registry outage does not unlearn schemas.
Other failures (timeouts, 5xx, garbage) are remembered too, with their history (errors,
attempts, last attempt), and a failed repository is asked again only once its back-off since
the last attempt has passed: 0.5 s + 4^attempts ms, growing to at most 60 s, as the Iglu client
does (iglu-scala-client ``Resolver.scala``, ``getReposForRetry`` and ``backoff``). Until then
the lookup fails at once from the cache. On a retry only the repositories due are asked (one
that said NotFound is not asked again until the entry expires).

A lookup budget (``Resolver.lookup_budget``) bounds the total time the lookups inside it may
wait on remote (HTTP) repositories, e.g. per batch of events: each HTTP lookup gets at most
what is left, and once it is spent remote repositories are not asked (the lookup fails with a
RepoFailure saying so, not recorded as an attempt, not cached).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plowline.spec.cache import Clock, TtlCache
from plowline.spec.data import SpecDataNotFoundError, data_path
from plowline.spec.errors import (
    RegistryError,
    RepoFailureError,
    ResolutionError,
    SchemaNotFoundError,
)
from plowline.spec.iglu import SchemaKey
from plowline.spec.registries import (
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_MAX_SCHEMA_BYTES,
    EmbeddedRegistry,
    Registry,
)
from plowline.spec.resolver_config import load_resolver_config, parse_resolver_config

SPEC_REGISTRY_NAME = "Plowline spec (embedded)"
MAX_HISTORY_ERRORS = 32  # like the Iglu client's LookupHistory.MaxErrors
DEFAULT_CACHE_SIZE = 500
MAX_BACKOFF = 60.0  # seconds (iglu-scala-client Resolver.MaxBackoff)
BUDGET_SPENT = "not asked: the lookup time budget is spent"


def backoff(attempts: int) -> float:
    """Seconds to wait after ``attempts`` failed attempts before asking a repository again.

    The Iglu client's curve (iglu-scala-client ``Resolver.backoff``, in milliseconds):
    500 + 4^n up to 8 attempts, 500 + 3^n up to 12, 5500 + 2^n up to 20, then 1200000 + 100n;
    never more than 60 s.
    """
    if attempts > 20:
        ms = 1_200_000 + attempts * 100
    elif attempts > 12:
        ms = 500 + 2**attempts + 5000
    elif attempts > 8:
        ms = 500 + 3**attempts
    else:
        ms = 500 + 4**attempts
    return min(ms / 1000, MAX_BACKOFF)


class _Budget:
    """Seconds that lookups may still spend waiting on remote repositories."""

    __slots__ = ("left",)

    def __init__(self, seconds: float) -> None:
        self.left = seconds


_BUDGET: ContextVar[_Budget | None] = ContextVar("plowline_iglu_lookup_budget", default=None)


@dataclass(frozen=True, slots=True)
class LookupHistory:
    """What one repository answered for one schema over all attempts so far."""

    errors: tuple[RegistryError, ...]
    attempts: int
    last_attempt: float  # clock seconds (epoch with the default clock)

    def record(self, error: RegistryError, now: float) -> LookupHistory:
        errors = self.errors if error in self.errors else (*self.errors, error)
        return LookupHistory(errors[:MAX_HISTORY_ERRORS], self.attempts + 1, now)

    def to_json(self, repository: str) -> dict[str, Any]:
        """One ``lookupHistory`` item of an Iglu ``ResolutionError``."""
        return {
            "repository": repository,
            "errors": [e.to_json() for e in self.errors],
            "attempts": self.attempts,
            "lastAttempt": format_timestamp(self.last_attempt),
        }


EMPTY_HISTORY = LookupHistory((), 0, 0.0)


def format_timestamp(seconds: float) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2024-01-02T03:04:05.678Z``."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class _Failure:
    history: dict[str, LookupHistory]
    final: bool  # every repository said NotFound: serve from cache until the TTL expires


def spec_registry() -> EmbeddedRegistry | None:
    """The embedded repository of Plowline's own schemas, or None without spec data."""
    try:
        root = data_path("schemas")
    except SpecDataNotFoundError:
        return None
    return EmbeddedRegistry(SPEC_REGISTRY_NAME, root)


class Resolver:
    """Finds schemas by key across repositories, with Iglu's ordering, caching and history."""

    def __init__(
        self,
        registries: Iterable[Registry] = (),
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        cache_ttl: float | None = None,
        clock: Clock = time.time,
        include_spec_schemas: bool = True,
    ) -> None:
        configured = list(registries)
        builtin = spec_registry() if include_spec_schemas else None
        self.registries: tuple[Registry, ...] = tuple(
            ([builtin] if builtin is not None else []) + configured
        )
        names = [r.name for r in self.registries]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"repository names must be unique, repeated: {duplicates}")
        self.cache_size = cache_size
        self.cache_ttl = cache_ttl
        self.clock = clock
        self._cache: TtlCache[SchemaKey, dict[str, Any] | _Failure] = TtlCache(
            cache_size, cache_ttl, clock
        )

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | str | Path,
        *,
        clock: Clock = time.time,
        include_spec_schemas: bool = True,
        extra_registries: Iterable[Registry] = (),
        http_timeout: float = DEFAULT_HTTP_TIMEOUT,
        max_schema_bytes: int = DEFAULT_MAX_SCHEMA_BYTES,
    ) -> Resolver:
        """Build from an Iglu ``resolver-config`` SDJ (a dict, or the path of a JSON file).

        ``extra_registries`` are appended to the configured ones (e.g. ``--schemas`` folders).
        """
        if isinstance(config, str | Path):
            parsed = load_resolver_config(
                Path(config), http_timeout=http_timeout, max_schema_bytes=max_schema_bytes
            )
        else:
            parsed = parse_resolver_config(
                config, base_dir=None, http_timeout=http_timeout, max_schema_bytes=max_schema_bytes
            )
        return cls(
            [*parsed.repositories, *extra_registries],
            cache_size=parsed.cache_size,
            cache_ttl=parsed.cache_ttl,
            clock=clock,
            include_spec_schemas=include_spec_schemas,
        )

    def prioritize(self, key: SchemaKey) -> list[Registry]:
        """Repositories in the order they are asked for ``key``."""
        return sorted(
            self.registries,
            key=lambda r: (not r.matches_vendor(key.vendor), r.class_priority, r.priority),
        )

    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        """The schema for ``key``; raises ResolutionError with each repository's history."""
        kept, fresh = self._cache.peek(key)
        if isinstance(kept, dict) and fresh:
            return kept
        # A schema past its TTL is looked up again, and still served if that fails.
        stale = kept if isinstance(kept, dict) else None
        cached = kept if isinstance(kept, _Failure) and fresh else None
        if cached is not None and cached.final:
            raise ResolutionError(key, dict(cached.history))
        previous = cached.history if cached is not None else {}
        budget = _BUDGET.get()
        history: dict[str, LookupHistory] = {}
        skipped: dict[str, LookupHistory] = {}
        asked = False
        all_not_found = True
        for registry in self.prioritize(key):
            past = previous.get(registry.name)
            if past is not None and not self._due(past):
                history[registry.name] = past  # backing off, or it said NotFound: not asked
                all_not_found = all_not_found and _only_not_found(past)
                continue
            if registry.remote and budget is not None and budget.left <= 0:
                skipped[registry.name] = past or LookupHistory(
                    (RepoFailureError(BUDGET_SPENT),), 0, self.clock()
                )
                all_not_found = False
                continue
            asked = True
            started = time.monotonic()
            try:
                if registry.remote and budget is not None:
                    schema = registry.lookup_within(key, budget.left)
                else:
                    schema = registry.lookup(key)
            except RegistryError as exc:
                error: RegistryError = exc
            except Exception as exc:  # a faulty repository must not take validation down
                error = RepoFailureError(f"unexpected {type(exc).__name__}: {exc}")
            else:
                self._cache.put(key, schema)
                return schema
            finally:
                if registry.remote and budget is not None:
                    budget.left -= time.monotonic() - started
            all_not_found = all_not_found and isinstance(error, SchemaNotFoundError)
            # The attempt is dated when it ended, so a slow failure backs off from its end.
            history[registry.name] = (past or EMPTY_HISTORY).record(error, self.clock())
        if stale is not None:
            # As the Iglu client does (iglu-scala-client ResolverCache.chooseResult): a failed
            # refresh keeps the schema known before, with a new TTL (no registry flooding).
            self._cache.put(key, stale)
            return stale
        if asked:
            # Only a clean "nobody has it" is final; anything else is asked again after its
            # back-off. Repositories skipped for the budget are not remembered as attempts.
            self._cache.put(key, _Failure(history, final=all_not_found and not skipped))
        ordered = {
            r.name: history.get(r.name) or skipped[r.name]
            for r in self.prioritize(key)
            if r.name in history or r.name in skipped
        }
        raise ResolutionError(key, ordered)

    def _due(self, past: LookupHistory) -> bool:
        """Whether a repository that failed before may be asked again now."""
        if not past.errors:
            return True
        if any(isinstance(e, SchemaNotFoundError) for e in past.errors):
            return False  # asked again only once the cache entry expires
        return self.clock() - past.last_attempt >= backoff(past.attempts)

    @contextmanager
    def lookup_budget(self, seconds: float) -> Iterator[None]:
        """Within the block, lookups wait at most ``seconds`` in total on remote repositories.

        Blocks nest (an inner one cannot extend the outer); per thread and per asyncio task.
        """
        if seconds < 0:
            raise ValueError(f"lookup budget must be >= 0 seconds, not {seconds}")
        outer = _BUDGET.get()
        left = seconds if outer is None else min(seconds, outer.left)
        budget = _Budget(left)
        token = _BUDGET.set(budget)
        try:
            yield
        finally:
            _BUDGET.reset(token)
            if outer is not None:
                outer.left -= left - budget.left

    def cache_expiry(self) -> float:
        """Until when (clock seconds) a schema looked up now may be reused without asking
        again: ``inf`` without a TTL, ``-inf`` when caching is off (``cacheSize`` 0)."""
        if self.cache_size == 0:
            return -math.inf
        if self.cache_ttl is None:
            return math.inf
        return self.clock() + self.cache_ttl

    def lookup_uri(self, uri: str) -> dict[str, Any]:
        """``lookup`` by ``iglu:`` URI (InvalidIgluUriError when it is not one)."""
        return self.lookup(SchemaKey.parse(uri))

    def clear_cache(self) -> None:
        self._cache.clear()


def _only_not_found(history: LookupHistory) -> bool:
    return all(isinstance(e, SchemaNotFoundError) for e in history.errors)


def resolution_error_json(error: ResolutionError) -> dict[str, Any]:
    """Iglu's ``{"error": "ResolutionError", "lookupHistory": [...]}``."""
    return {
        "error": "ResolutionError",
        "lookupHistory": [h.to_json(repo) for repo, h in error.lookup_history.items()],
    }

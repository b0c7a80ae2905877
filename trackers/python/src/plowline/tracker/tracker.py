"""The Tracker: adds the standard parameters to each event and hands it to the emitters."""

from __future__ import annotations

from collections.abc import Sequence

from plowline.tracker._version import TRACKER_VERSION
from plowline.tracker.clock import Clock, EventIdFactory, random_event_id, system_clock_ms
from plowline.tracker.emitters.base import Emitter
from plowline.tracker.encoding import optional_text
from plowline.tracker.errors import ConfigurationError, InvalidEventError
from plowline.tracker.events import Event
from plowline.tracker.subject import Subject

# The platform codes enrich accepts for ``p`` (anything else is a parse error there).
PLATFORMS = frozenset({"web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot", "headset"})


class Tracker:
    """Builds each event's payload on the caller's thread (so bad input raises here) and
    gives the finished payload to every emitter.

    ``clock`` (milliseconds) and ``event_id_factory`` are injected so output can be compared
    exactly; the defaults are the wall clock and random UUIDs.
    """

    def __init__(
        self,
        emitters: Emitter | Sequence[Emitter],
        *,
        namespace: str | None = None,
        app_id: str | None = None,
        platform: str = "pc",
        encode_base64: bool = True,
        subject: Subject | None = None,
        clock: Clock = system_clock_ms,
        event_id_factory: EventIdFactory = random_event_id,
    ) -> None:
        self._emitters: tuple[Emitter, ...] = (
            tuple(emitters) if isinstance(emitters, Sequence) else (emitters,)
        )
        if not self._emitters:
            raise ConfigurationError("a tracker needs at least one emitter")
        if platform not in PLATFORMS:
            raise ConfigurationError(
                f"platform must be one of {sorted(PLATFORMS)}, got {platform!r}"
            )
        if not isinstance(encode_base64, bool):
            raise ConfigurationError("encode_base64 must be a bool")
        try:
            optional_text("namespace", namespace)
            optional_text("app_id", app_id)
        except InvalidEventError as error:
            raise ConfigurationError(str(error)) from None
        self.namespace = namespace
        self.app_id = app_id
        self.platform = platform
        self.encode_base64 = encode_base64
        self._clock = clock
        self._next_event_id = event_id_factory
        self._tracker_params = {"tv": TRACKER_VERSION, "p": platform}
        if namespace is not None:
            self._tracker_params["tna"] = namespace
        if app_id is not None:
            self._tracker_params["aid"] = app_id
        self.subject = subject

    @property
    def subject(self) -> Subject | None:
        """The subject whose properties go with every event (a per-call subject adds to it)."""
        return self._subject

    @subject.setter
    def subject(self, subject: Subject | None) -> None:
        if subject is not None and not isinstance(subject, Subject):
            raise ConfigurationError("subject must be a Subject")
        self._subject = subject
        self._standard = {**self._tracker_params, **(subject.wire_params() if subject else {})}

    def track(self, event: Event, *, subject: Subject | None = None) -> list[str]:
        """Track one event; returns the event id of each wire event it produced.

        Raises InvalidEventError for a bad event; nothing reaches the emitters then.
        """
        if not isinstance(event, Event):
            raise InvalidEventError(f"track() takes an Event, got {type(event).__name__}")
        wires = event.wire_events(encode_base64=self.encode_base64)
        if subject is None:
            standard = self._standard
        elif isinstance(subject, Subject):
            standard = {**self._standard, **subject.wire_params()}
        else:
            raise InvalidEventError("subject must be a Subject")
        dtm = str(self._clock())
        ids: list[str] = []
        for params in wires:
            params.update(standard)
            event_id = self._next_event_id()
            params["eid"] = event_id
            params["dtm"] = dtm
            ids.append(event_id)
        for params in wires:
            for emitter in self._emitters:
                emitter.input(params)
        return ids

    def flush(self, timeout: float | None = None) -> bool:
        """Flush every emitter; True when all of them delivered everything."""
        results = [emitter.flush(timeout) for emitter in self._emitters]
        return all(results)

    def close(self, timeout: float | None = None) -> bool:
        """Close every emitter (flushing first); True when nothing was left undelivered."""
        results = [emitter.close(timeout) for emitter in self._emitters]
        return all(results)

"""The Python tracker's conformance driver with one deliberate bug: a mutant.

``PLOWLINE_MUTANT=<name>`` picks the bug from :data:`PATCHES`; the patch is applied to the
tracker's modules in this process only, then the unchanged driver
(``trackers/python/driver/driver.py``) is loaded and run. Nothing in the tracker package knows
about mutants. Each patch replaces the module attribute the tracker looks up at call time (a
name imported with ``from ... import`` is patched in the module that uses it), before the driver
is loaded, so constants the driver itself imports are caught too.

The suite's power is how many of these it kills: see ``mutants.yaml`` and ``mutation.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plowline.tracker import encoding, events, self_describing, tracker
from plowline.tracker.emitters import background, delivery, retry, wire

DRIVER = Path(__file__).resolve().parents[2] / "trackers" / "python" / "driver" / "driver.py"
ENV = "PLOWLINE_MUTANT"


def _set(owner: object, name: str, value: object) -> None:
    """Replace one attribute, insisting it exists (a renamed target must not pass silently)."""
    if not hasattr(owner, name):
        raise AttributeError(f"mutant target {owner!r} has no attribute {name!r}")
    setattr(owner, name, value)


def _wrap_tracker_init(change: Callable[[dict[str, Any]], None]) -> None:
    """Let ``change`` edit the keyword arguments every Tracker is built with."""
    original = tracker.Tracker.__init__

    def init(self: tracker.Tracker, *args: Any, **kwargs: Any) -> None:
        change(kwargs)
        original(self, *args, **kwargs)

    _set(tracker.Tracker, "__init__", init)


def _wrap_delivery_settings(change: Callable[[delivery.DeliverySettings], Any]) -> None:
    """Let ``change`` rewrite the DeliverySettings each emitter's send loop gets."""
    original = delivery.Delivery.__init__

    def init(self: delivery.Delivery, settings: delivery.DeliverySettings, **kwargs: Any) -> None:
        original(self, change(settings), **kwargs)

    _set(delivery.Delivery, "__init__", init)


def base64_standard_alphabet() -> None:
    """cx/ue_px in the standard alphabet (+ and /) instead of the URL-safe one (- and _)."""

    def standard(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    _set(encoding, "base64url", standard)


def contexts_dropped() -> None:
    """Entities given with an event never reach the wire (no co/cx)."""

    def nothing(*_args: Any, **_kwargs: Any) -> None:
        return None

    _set(events, "add_contexts", nothing)


def dtm_in_seconds() -> None:
    """dtm stamped in seconds since the epoch instead of milliseconds."""

    def change(kwargs: dict[str, Any]) -> None:
        clock = kwargs["clock"]
        kwargs["clock"] = lambda: clock() // 1000

    _wrap_tracker_init(change)


def event_ids_repeated() -> None:
    """Every event of a tracker carries the id of its first event."""

    def change(kwargs: dict[str, Any]) -> None:
        factory = kwargs["event_id_factory"]
        first: list[str] = []

        def same() -> str:
            if not first:
                first.append(factory())
            return first[0]

        kwargs["event_id_factory"] = same

    _wrap_tracker_init(change)


def no_retry() -> None:
    """One attempt per request, whatever the retry policy says."""
    _wrap_delivery_settings(
        lambda s: dataclasses.replace(s, retry=dataclasses.replace(s.retry, max_attempts=1))
    )


def retry_on_400() -> None:
    """400 Bad Request is retried like a 5xx instead of ending the request."""
    original = retry.classify  # the function delivery imported

    def classify(status: int) -> retry.Outcome:
        return retry.Outcome.RETRY if status == 400 else original(status)

    _set(delivery, "classify", classify)


def content_type_text_plain() -> None:
    """POST bodies labelled text/plain instead of application/json."""
    _set(delivery, "POST_HEADERS", {"Content-Type": "text/plain; charset=utf-8"})


def stm_missing() -> None:
    """No stm (sent timestamp) on GET or POST events."""
    _set(wire, "_tail", lambda _stm: b"}")
    _set(delivery, "get_target", lambda path, event, _stm: wire.get_target(path, event, "")[:-5])


def payload_schema_1_0_3() -> None:
    """POST bodies claim payload_data 1-0-3 instead of 1-0-4."""
    old = self_describing.PAYLOAD_DATA_SCHEMA
    prefix = wire._PREFIX.replace(old.encode(), old.replace("1-0-4", "1-0-3").encode())
    _set(wire, "_PREFIX", prefix)


def get_path_wrong() -> None:
    """GET requests go to /e instead of /i."""
    import plowline.tracker.emitters as emitters_package

    for module in (emitters_package, wire, delivery):
        _set(module, "GET_PATH", "/e")


def tv_missing() -> None:
    """No tracker version (tv) on any event."""
    original = tracker.Tracker.__init__

    def init(self: tracker.Tracker, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._tracker_params.pop("tv", None)
        self.subject = self.subject  # recompute the standard parameters without tv

    _set(tracker.Tracker, "__init__", init)


def ttm_ignored() -> None:
    """A true timestamp given with an event is not sent (no ttm)."""
    original = events.Event._finish

    def finish(self: events.Event, params: dict[str, str], encode_base64: bool) -> dict[str, str]:
        done = original(self, params, encode_base64)
        done.pop("ttm", None)
        return done

    _set(events.Event, "_finish", finish)


def unicode_mangled() -> None:
    """Non-ASCII text reaches the wire as mojibake (UTF-8 bytes read as Latin-1)."""
    original = background.BackgroundEmitter.input

    def put(self: background.BackgroundEmitter, payload: dict[str, str]) -> None:
        mangled = {k: v.encode("utf-8").decode("latin-1") for k, v in payload.items()}
        original(self, mangled)

    _set(background.BackgroundEmitter, "input", put)


def batch_never_flushed() -> None:
    """flush() sends only full batches: a remainder smaller than the batch size stays queued."""
    original = delivery.Delivery.send

    def send(self: delivery.Delivery, *, everything: bool, deadline: float | None = None) -> bool:
        del everything
        return original(self, everything=False, deadline=deadline)

    _set(delivery.Delivery, "send", send)


def retry_after_ignored() -> None:
    """Retry-After is ignored: the next attempt comes after the plain back-off."""
    _wrap_delivery_settings(
        lambda s: dataclasses.replace(
            s, retry=dataclasses.replace(s.retry, honour_retry_after=False)
        )
    )


def batch_reversed() -> None:
    """The events of each POST batch go out in reverse order."""
    original = wire.split_for_post  # the function delivery imported

    def split(*args: Any, **kwargs: Any) -> list[wire.Batch]:
        return [
            wire.Batch(tuple(reversed(b.events)), tuple(reversed(b.heads)))
            for b in original(*args, **kwargs)
        ]

    _set(delivery, "split_for_post", split)


PATCHES: dict[str, Callable[[], None]] = {
    "base64-standard-alphabet": base64_standard_alphabet,
    "contexts-dropped": contexts_dropped,
    "dtm-in-seconds": dtm_in_seconds,
    "event-ids-repeated": event_ids_repeated,
    "no-retry": no_retry,
    "retry-on-400": retry_on_400,
    "content-type-text-plain": content_type_text_plain,
    "stm-missing": stm_missing,
    "payload-schema-1-0-3": payload_schema_1_0_3,
    "get-path-wrong": get_path_wrong,
    "tv-missing": tv_missing,
    "ttm-ignored": ttm_ignored,
    "unicode-mangled": unicode_mangled,
    "batch-never-flushed": batch_never_flushed,
    "retry-after-ignored": retry_after_ignored,
    "batch-reversed": batch_reversed,
}


def run_driver() -> int:
    """Load the unchanged driver from its file and run its main loop."""
    spec = importlib.util.spec_from_file_location("plowline_tracker_python_driver", DRIVER)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the driver at {DRIVER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    result: int = module.main()
    return result


def main() -> int:
    name = os.environ.get(ENV, "")
    patch = PATCHES.get(name)
    if patch is None:
        sys.stderr.write(f"{ENV} must name a mutant, one of {sorted(PATCHES)}; got {name!r}\n")
        return 2
    patch()
    return run_driver()


if __name__ == "__main__":
    sys.exit(main())

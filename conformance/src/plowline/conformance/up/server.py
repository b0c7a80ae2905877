"""Wiring and lifecycle of `plowline up`: store -> pipeline -> collector -> HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

import uvicorn
from plowline.collector.app import CollectorApp
from plowline.collector.asgi import AsgiCollector
from plowline.collector.buffer import BufferSettings, SinkBuffer
from plowline.collector.config import CollectorConfig
from plowline.collector.metrics import Metrics
from plowline.collector.service import CollectorService
from plowline.conformance.up.api import MicroApi
from plowline.conformance.up.asgi import UI_PATH, UpAsgi
from plowline.conformance.up.models_view import ModelsView
from plowline.conformance.up.pipeline import OutputFormat, Pipeline, QueueSink
from plowline.conformance.up.store import InspectionStore, OpenReport, StoreError, open_persist

log = logging.getLogger("plowline.up")
COLLECTOR_BYTES = 2_621_440  # the collector's buffer: room for one largest record (2 MB) and more


class ListenError(Exception):
    """The address cannot be listened on (the message names it and why)."""


@dataclass(frozen=True)
class UpOptions:
    host: str = "127.0.0.1"
    port: int = 9090
    persist: Path | None = None
    schemas: tuple[Path, ...] = ()
    enrichments: Path | None = None
    output: OutputFormat | None = None
    cookie_name: str = "micro"
    schema_poll_seconds: float = 1.0
    resolver_config: Path | None = None  # --iglu: an Iglu resolver config, as Micro takes it
    collector_overrides: dict[str, object] = field(default_factory=dict)


def collector_config(options: UpOptions) -> CollectorConfig:
    """Micro's collector: cookie `micro`, nothing else special; sinks are injected."""
    data: dict[str, object] = {
        "http": {"host": options.host, "port": max(options.port, 0)},
        "cookie": {"name": options.cookie_name},
        "sinks": {"good": {"type": "memory"}, "bad": {"type": "memory"}},
        # Short linger: an event should be visible in /micro/good within milliseconds. A small
        # bound: with the pipeline's own, what is accepted and not stored stays a few seconds'
        # work; past it the collector answers 503 and trackers retry.
        "buffer": {"linger_ms": 2, "drain_timeout_seconds": 30, "max_bytes": COLLECTOR_BYTES},
        "metrics": {"enabled": False},
    }
    return CollectorConfig.model_validate(_merged(data, options.collector_overrides))


def _merged(base: dict[str, object], over: dict[str, object]) -> dict[str, object]:
    """``over`` on ``base``, section by section (a collector config's cookie block keeps the
    defaults it does not name)."""
    merged = dict(base)
    for key, value in over.items():
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = _merged(current, value)
        else:
            merged[key] = value
    return merged


class CountingBuffer(SinkBuffer):
    """The collector's buffer, counting the records it accepted (in order): with the sink's
    own count it tells when everything accepted so far has been handed over."""

    accepted = 0

    def offer(self, records: Sequence[bytes]) -> bool:
        if not super().offer(records):
            return False
        self.accepted += len(records)
        return True


def build_collector(config: CollectorConfig, good: QueueSink, bad: QueueSink) -> CollectorApp:
    """plowline-collector's ``build_app`` with counting buffers (and no framing, no metrics:
    one collector record is one record handed to the pipeline)."""
    b = config.buffer
    settings = BufferSettings(
        max_bytes=b.max_bytes,
        batch_max_records=b.batch_max_records,
        batch_max_bytes=b.batch_max_bytes,
        linger_seconds=b.linger_ms / 1000,
        retry_initial_seconds=b.retry_initial_ms / 1000,
        retry_max_seconds=b.retry_max_ms / 1000,
        flush_timeout_seconds=b.flush_timeout_seconds,
    )
    metrics = Metrics()
    good_buffer = CountingBuffer(good, settings, name="good")
    bad_buffer = CountingBuffer(bad, settings, name="bad")
    good.accepted = lambda: good_buffer.accepted
    bad.accepted = lambda: bad_buffer.accepted
    service = CollectorService(config, good_buffer, bad_buffer)
    return CollectorApp(config, service, good_buffer, bad_buffer, metrics)


class Acknowledgements:
    """With --persist, a collector answer waits until every record accepted so far is in the
    journal (so an event answered 200 survives kill -9). Counts, not records: the buffers
    accept and the sinks receive in the same order."""

    def __init__(self, pairs: Sequence[tuple[CountingBuffer, QueueSink]]) -> None:
        self._pairs = list(pairs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: list[tuple[list[int], asyncio.Future[None]]] = []
        for _buffer, sink in self._pairs:
            sink.on_written = self._wake

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def _reached(self, targets: list[int]) -> bool:
        return all(sink.received >= t for (_b, sink), t in zip(self._pairs, targets, strict=True))

    def _wake(self) -> None:
        """From a sink's thread after each write: check the waiters on the event loop."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(self._check)

    def _check(self) -> None:
        still = []
        for targets, future in self._waiters:
            if future.done():
                continue
            if self._reached(targets):
                future.set_result(None)
            else:
                still.append((targets, future))
        self._waiters = still

    async def wait(self, timeout: float) -> bool:
        """True once the records accepted before this call are journaled (or dropped by a
        reset); False after ``timeout``."""
        targets = [buffer.accepted for buffer, _sink in self._pairs]
        if self._reached(targets):
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((targets, future))
        self._check()  # a write may have finished between the first check and now
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return False
        return True


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after its shutdown (the process then dies by the
    signal, with a traceback for SIGINT); we want a clean exit 0 after flushing."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self.handle_exit(sig, frame)


class UpServer:
    """Everything `plowline up` runs. ``serve()`` blocks (signals stop it cleanly);
    ``start_in_thread()`` is for tests and benchmarks."""

    def __init__(
        self, options: UpOptions, *, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.options = options
        self.err = err if err is not None else sys.stderr
        self._tempdir: Path | None = None
        if options.persist is not None:
            self.opened = open_persist(options.persist)
            if self.opened.moved_aside is not None:
                self._say(
                    f"plowline up: {options.persist} could not be read ({self.opened.reason}); "
                    f"moved aside to {self.opened.moved_aside}, starting with an empty store"
                )
            try:
                self.store = InspectionStore(options.persist)
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(f"cannot open {options.persist} as the store: {exc}") from None
        else:
            self._tempdir = Path(tempfile.mkdtemp(prefix="plowline-up-"))
            path = self._tempdir / "events.sqlite"
            self.opened = OpenReport(path, True)
            self.store = InspectionStore(path, temporary=True)
        try:
            self.pipeline = Pipeline(
                self.store,
                schema_dirs=options.schemas,
                enrichments_dir=options.enrichments,
                output=options.output,
                out=out,
                poll_seconds=options.schema_poll_seconds,
                journal=options.persist is not None,
                report=self._say,
                resolver_config=options.resolver_config,
            )
            good, bad = self.pipeline.sink("good"), self.pipeline.sink("bad")
            self.collector: CollectorApp = build_collector(collector_config(options), good, bad)
            buffers = (self.collector.good, self.collector.bad)
            self.acks: Acknowledgements | None = None
            if options.persist is not None:
                assert isinstance(buffers[0], CountingBuffer)
                assert isinstance(buffers[1], CountingBuffer)
                self.acks = Acknowledgements([(buffers[0], good), (buffers[1], bad)])
            self.api = MicroApi(self.store, self.pipeline, self.opened)
            self.api.models = ModelsView(self.store.path).snapshot
            self.api.backlog = lambda: (
                self.pipeline.queued() + sum(b.pending_records for b in buffers)
            )
            self.app = UpAsgi(
                self.api,
                AsgiCollector(self.collector, manage_lifecycle=False),
                on_startup=self._startup,
                on_shutdown=self._shutdown,
                acks=self.acks,
            )
            self.sock = socket.socket(
                socket.AF_INET6 if ":" in options.host else socket.AF_INET, socket.SOCK_STREAM
            )
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.sock.bind((options.host, options.port))
                # Listen now: requests sent once the banner is printed queue until uvicorn runs.
                self.sock.listen(2048)
            except OSError as exc:
                raise ListenError(f"cannot listen on {options.host}:{options.port}: {exc}") from exc
            self.port: int = self.sock.getsockname()[1]
        except BaseException:
            # Nothing is running yet: release the store (and temporary files) and re-raise.
            if hasattr(self, "sock"):
                self.sock.close()
            if hasattr(self, "pipeline"):
                self.pipeline.stop(1)
            self.store.close()
            if self._tempdir is not None:
                shutil.rmtree(self._tempdir, ignore_errors=True)
            raise
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # ---- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
        return f"http://{host}:{self.port}"

    def _say(self, line: str) -> None:
        print(line, file=self.err, flush=True)

    def _startup(self) -> None:
        if self.acks is not None:
            self.acks.bind(asyncio.get_running_loop())
        self.pipeline.start()
        self.collector.start()
        # Long-lived objects (config, schemas, modules) out of future GC passes: shorter pauses.
        gc.collect()
        gc.freeze()

    def _shutdown(self) -> None:
        """Stop intake, flush collector buffers into the pipeline, store everything."""
        lost = self.collector.stop()
        self.pipeline.stop()
        if lost:
            self._say(f"plowline up: {lost} records could not be delivered at shutdown")

    def _uvicorn(self) -> uvicorn.Server:
        config = uvicorn.Config(
            self.app,
            lifespan="on",
            access_log=False,
            log_config=None,
            server_header=False,
            timeout_graceful_shutdown=10,
            http="httptools",
            loop="auto",
        )
        return _Server(config)

    def banner(self) -> str:
        return (
            f"plowline up: collector {self.base_url}  "
            f"(e.g. POST {self.base_url}/com.snowplowanalytics.snowplow/tp2)\n"
            f"plowline up: UI        {self.base_url}{UI_PATH}/\n"
            f"plowline up: API       {self.base_url}/micro/all  (OpenAPI: {self.base_url}"
            f"/openapi.json)\n"
            f"plowline up: store     {self.store.path}"
            f"{' (temporary)' if self.store.temporary else ''}"
        )

    def serve(self) -> None:
        """Block until SIGINT/SIGTERM; uvicorn then runs our lifespan shutdown (flush)."""
        self._server = self._uvicorn()
        try:
            self._server.run(sockets=[self.sock])
        finally:
            self.close()

    def start_in_thread(self) -> None:
        self._server = self._uvicorn()
        server = self._server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self.sock]}, name="plowline-up", daemon=True
        )
        self._thread.start()
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError("plowline up: the server did not start")
            self._thread.join(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(60)
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.sock.close()
        self.store.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)

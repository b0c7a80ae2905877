"""Running the collector under an HTTP server: granian (default) or uvicorn, both over ASGI.

granian's RSGI interface is not used: its header API hands values over as ``str`` and silently
leaves out every value with a byte outside visible ASCII (a UTF-8 User-Agent arrived as none);
its ASGI interface gives the bytes.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path
from typing import Any, Final

from plowline.collector import logs
from plowline.collector.app import build_app
from plowline.collector.config import CollectorConfig, load_config

CONFIG_ENV: Final = "PLOWLINE_COLLECTOR_CONFIG"
log = logging.getLogger("plowline.collector")


def _log_dict(level: str) -> dict[str, Any]:
    """granian's logging config: its loggers through our JSON formatter, at our level."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "plowline.collector.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "_granian": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "granian.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def _freeze_heap() -> None:
    """Long-lived objects (config, compiled regexes, thrift classes, imported modules) never
    change: keep them out of every future GC pass so collections stay short (p99 latency)."""
    gc.collect()
    gc.freeze()


def asgi_factory() -> Any:
    """Entry point granian imports in its worker process (config path via the environment)."""
    from plowline.collector.asgi import AsgiCollector

    raw = os.environ.get(CONFIG_ENV)
    config = load_config(Path(raw) if raw else None)
    logs.configure(config.logging.level)
    app = AsgiCollector(build_app(config))
    _freeze_heap()
    return app


def serve(config: CollectorConfig, config_path: Path | None) -> None:
    """Serve until SIGINT/SIGTERM, then drain the buffers into the sinks and exit."""
    logs.configure(config.logging.level)
    http = config.http
    log.info("starting", extra={"host": http.host, "port": http.port, "server": http.server})
    if http.server == "uvicorn":
        import uvicorn
        from plowline.collector.asgi import AsgiCollector

        asgi_app = AsgiCollector(build_app(config))
        _freeze_heap()
        uv_config = uvicorn.Config(
            asgi_app,
            host=http.host,
            port=http.port,
            backlog=http.backlog,
            http="httptools",
            loop="uvloop",
            lifespan="on",
            access_log=config.logging.access_log,
            log_config=None,
            server_header=False,
        )
        uvicorn.Server(uv_config).run()
        return

    from granian.constants import Interfaces, Loops
    from granian.server import Server

    if config_path is not None:
        os.environ[CONFIG_ENV] = str(config_path.resolve())
    server = Server(
        "plowline.collector.server:asgi_factory",
        address=http.host,
        port=http.port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.auto,
        backlog=http.backlog,
        factory=True,
        websockets=False,
        log_dictconfig=_log_dict(config.logging.level),
        log_access=config.logging.access_log,
        # Let the worker finish draining its buffers; never kill it mid-flush.
        workers_kill_timeout=None,
    )
    server.serve()

"""Is a Docker engine answering? Asked cheaply: one HTTP `GET /_ping` on its socket, short timeout.

A `docker` client binary alone proves nothing (this machine has one and no engine), so we
never shell out to it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_SOCKET = Path("/var/run/docker.sock")


@dataclass(frozen=True)
class DockerProbe:
    answers: bool
    where: str
    detail: str

    def __str__(self) -> str:
        state = "answers" if self.answers else "does not answer"
        return f"Docker engine at {self.where} {state} ({self.detail})"


def _ping(sock: socket.socket, timeout: float) -> tuple[bool, str]:
    sock.settimeout(timeout)
    try:
        sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        reply = sock.recv(512)
    except OSError as exc:
        return False, f"no reply: {exc}"
    status = reply.split(b"\r\n", 1)[0].decode("latin-1", errors="replace")
    if status.startswith("HTTP/") and " 200" in status:
        return True, status
    return False, f"unexpected reply {status!r}"


def probe_docker(env: Mapping[str, str] | None = None, timeout: float = 0.5) -> DockerProbe:
    """Ping the engine named by DOCKER_HOST (unix:// or tcp://), else the default socket."""
    e = os.environ if env is None else env
    host = e.get("DOCKER_HOST", "").strip()
    if host.startswith("tcp://"):
        parts = urlsplit(host)
        address = (parts.hostname or "127.0.0.1", parts.port or 2375)
        try:
            with socket.create_connection(address, timeout=timeout) as sock:
                ok, detail = _ping(sock, timeout)
        except OSError as exc:
            return DockerProbe(False, host, f"cannot connect: {exc}")
        return DockerProbe(ok, host, detail)
    path = Path(host[len("unix://") :]) if host.startswith("unix://") else DEFAULT_SOCKET
    if host and not host.startswith("unix://"):
        return DockerProbe(False, host, "unsupported DOCKER_HOST scheme")
    if not path.exists():
        return DockerProbe(False, str(path), "socket absent")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            ok, detail = _ping(sock, timeout)
    except OSError as exc:
        return DockerProbe(False, str(path), f"cannot connect: {exc}")
    return DockerProbe(ok, str(path), detail)

"""Docker engine detection: one /_ping on the socket, answered or not, with a short timeout."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from plowline.conformance.services.docker import probe_docker


def serve_unix(path: Path, reply: bytes | None) -> Iterator[None]:
    """A unix socket server that answers every connection with reply (None: stays silent)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    stop = threading.Event()
    held: list[socket.socket] = []

    def loop() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.recv(1024)
            if reply is None:
                held.append(conn)
            else:
                conn.sendall(reply)
                conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    return tmp_path / "docker.sock"


def test_engine_that_answers_ping(sock_path: Path) -> None:
    for _ in serve_unix(sock_path, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"):
        probe = probe_docker({"DOCKER_HOST": f"unix://{sock_path}"})
        assert probe.answers
        assert "answers" in str(probe)


def test_silent_socket_is_no_engine_and_fails_fast(sock_path: Path) -> None:
    for _ in serve_unix(sock_path, None):
        began = time.monotonic()
        probe = probe_docker({"DOCKER_HOST": f"unix://{sock_path}"}, timeout=0.3)
        assert not probe.answers
        assert time.monotonic() - began < 5  # bounded by the timeout, never a hang


def test_wrong_reply_is_no_engine(sock_path: Path) -> None:
    for _ in serve_unix(sock_path, b"HTTP/1.1 404 Not Found\r\n\r\n"):
        probe = probe_docker({"DOCKER_HOST": f"unix://{sock_path}"})
        assert not probe.answers
        assert "404" in probe.detail


def test_absent_socket(sock_path: Path) -> None:
    probe = probe_docker({"DOCKER_HOST": f"unix://{sock_path}"})
    assert not probe.answers
    assert probe.detail == "socket absent"


def test_tcp_docker_host_that_refuses() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probe = probe_docker({"DOCKER_HOST": f"tcp://127.0.0.1:{port}"})
    assert not probe.answers
    assert "cannot connect" in probe.detail


def test_unsupported_scheme() -> None:
    probe = probe_docker({"DOCKER_HOST": "ssh://somewhere"})
    assert not probe.answers
    assert "unsupported" in probe.detail

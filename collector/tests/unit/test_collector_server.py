"""Real servers on 127.0.0.1: the CLI under granian and uvicorn (both ASGI), SIGTERM drain."""

from __future__ import annotations

import base64
import http.client
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.collector.testing import CollectorStartError, end_group, free_port, spawn_collector
from plowline.spec.collector_payload import CollectorPayload, decode
from plowline.spec.framing import unpack

TP2 = "/com.snowplowanalytics.snowplow/tp2"


class Running:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, good: Path, bad: Path) -> None:
        self.proc, self.port, self.good, self.bad = proc, port, good, bad

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            conn.close()

    def stop(self) -> None:
        """SIGTERM; the process drains and exits (uvicorn re-raises the signal: -15)."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) in (0, -signal.SIGTERM)

    def raw(self, data: bytes, *, half_close: bool = True) -> bytes:
        """Send raw bytes, return whatever comes back before the server closes.

        ``half_close``: shut our sending side after the request (hyper, granian's HTTP stack,
        may then drop the answer: use False where the answer matters)."""
        reply = b""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            try:
                sock.sendall(data)
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
                while chunk := sock.recv(65536):
                    reply += chunk
            except OSError:
                pass  # the server may close first (that is fine: no crash, no 5xx)
        return reply

    def payloads(self) -> list[CollectorPayload]:
        lines = [
            line
            for p in sorted(self.good.iterdir())
            if not p.name.endswith(".open")
            for line in p.read_bytes().splitlines()
        ]
        return [decode(x) for line in lines for x in unpack(base64.b64decode(line))]


@pytest.fixture(params=["granian", "uvicorn"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    port = free_port()
    good, bad = tmp_path / "good", tmp_path / "bad"
    config = tmp_path / "collector.toml"
    config.write_text(
        f'[http]\nport = {port}\nserver = "{request.param}"\n'
        f'[sinks.good]\ntype = "file"\ndirectory = "{good}"\n'
        f'[sinks.bad]\ntype = "file"\ndirectory = "{bad}"\n'
        "[buffer]\nlinger_ms = 50\n"
    )
    try:
        proc = spawn_collector(config, port, stderr=subprocess.PIPE)
    except CollectorStartError as exc:
        pytest.fail(str(exc))
    running = Running(proc, port, good, bad)
    yield running
    end_group(proc)
    if proc.stderr:
        proc.stderr.close()


def test_real_server_records_and_drains_on_sigterm(server: Running) -> None:
    status, headers, body = server.call("GET", "/i?e=pv&tv=t", headers={"Origin": "https://a.com"})
    assert status == 200
    assert headers["content-type"] == "image/gif"
    assert len(body) == 43
    assert headers["access-control-allow-origin"] == "https://a.com"
    assert headers["set-cookie"].startswith("sp=")
    for i in range(20):
        status, _, body = server.call(
            "POST",
            TP2,
            body=b'{"schema":"s","data":[{"n":"%d"}]}' % i,
            headers={"Content-Type": "application/json"},
        )
        assert (status, body) == (200, b"ok")
    too_big = server.raw(
        b"POST " + TP2.encode() + b" HTTP/1.1\r\nHost: a\r\nContent-Length: 3000000\r\n\r\n"
    )
    assert too_big.startswith(b"HTTP/1.1 413")
    assert server.call("GET", "/health")[0] == 200
    assert server.call("GET", "/sink-health")[0] == 200
    assert server.call("OPTIONS", "/i")[1]["access-control-max-age"] == "3600"
    # Stop right away: the linger means records are still in the buffer; SIGTERM drains them.
    server.stop()
    payloads = server.payloads()
    assert len(payloads) == 21
    assert payloads[0].path == "/i"
    assert payloads[0].ip_address == "127.0.0.1"
    assert payloads[0].querystring == "e=pv&tv=t"
    bodies = sorted(p.body or "" for p in payloads[1:])
    assert len(set(bodies)) == 20


def test_real_server_survives_malformed_http(server: Running) -> None:
    junk = [
        b"GET /i?x=\xff\xfe HTTP/1.1\r\nHost: a\r\nX-Bin: \xff\xfe\x80\r\n"
        b"Cookie: sp=\xc3\x28\r\n\r\n",
        b"POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: a\r\n"
        b"Content-Length: abc\r\n\r\n",
        b"POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: a\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00",
        b"GET /%ZZ/%00 HTTP/1.1\r\nHost: a\r\n\r\n",
    ]
    for raw in junk:
        reply = server.raw(raw)
        if reply:
            status = int(reply.split(b" ", 2)[1])
            assert status < 500, reply[:200]
    assert server.call("GET", "/health")[0] == 200
    server.stop()
    for payload in server.payloads():
        assert payload.schema.startswith("iglu:")


@pytest.fixture(scope="module")
def granian_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    good, bad = tmp / "good", tmp / "bad"
    config = tmp / "collector.toml"
    config.write_text(
        f"[http]\nport = {port}\n[limits]\nmax_payload_bytes = 2048\ndrop_payload_bytes = 8192\n"
        '[redirect]\nenabled = true\nallowed_hosts = ["a.com"]\n'
        f'[sinks.good]\ntype = "file"\ndirectory = "{good}"\n'
        f'[sinks.bad]\ntype = "file"\ndirectory = "{bad}"\n'
    )
    try:
        proc = spawn_collector(config, port)
    except CollectorStartError as exc:
        pytest.fail(str(exc))
    running = Running(proc, port, good, bad)
    yield running
    running.stop()
    for payload in running.payloads():  # every stored record decodes
        assert payload.schema.startswith("iglu:")
    end_group(proc)


_BYTES_NO_CRLF = st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from([b"GET", b"HEAD", b"POST", b"OPTIONS", b"PUT"]),
    path=st.one_of(
        st.sampled_from([b"/i", b"/ice.png", b"/com.snowplowanalytics.snowplow/tp2", b"/r/tp2"]),
        st.binary(max_size=40).map(lambda b: b"/" + bytes(c for c in b if c > 0x20 and c != 0x7F)),
    ),
    query=st.binary(max_size=100).map(lambda b: bytes(c for c in b if c > 0x20 and c != 0x7F)),
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    b"Cookie",
                    b"Origin",
                    b"Content-Type",
                    b"SP-Anonymous",
                    b"X-A",
                    b"User-Agent",
                    b"Referer",
                ]
            ),
            _BYTES_NO_CRLF,
        ),
        max_size=5,
    ),
    body=st.binary(max_size=3000),
)
def test_real_server_fuzz_never_5xx(
    granian_server: Running,
    method: bytes,
    path: bytes,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    target = path + (b"?" + query if query else b"")
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if method == b"POST":
        lines.append(b"Content-Length: " + str(len(body)).encode())
    request = b"\r\n".join(lines) + b"\r\n\r\n" + (body if method == b"POST" else b"")
    reply = granian_server.raw(request)
    if reply.startswith(b"HTTP/"):
        status = int(reply.split(b" ", 2)[1])
        assert status < 500, reply[:300]


def test_real_server_keeps_header_bytes_beyond_ascii(server: Running) -> None:
    """Issue 15.16: under granian a header value with any byte past ASCII used to vanish.

    Each byte is kept, read as one ISO-8859-1 character (as Snowplow's collector reads header
    bytes), so the stored value encodes back to exactly the bytes sent.
    """
    user_agent = "Mozilla/5.0 (Linux; Android 12; 华为 P50) Mobile".encode()
    referer = "https://exemple.fr/café?q=é".encode()
    latin1 = b"caf\xe9"  # a lone ISO-8859-1 byte, not UTF-8
    request = (
        b"GET /i?e=pv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"User-Agent: " + user_agent + b"\r\nReferer: " + referer + b"\r\n"
        b"X-Latin: " + latin1 + b"\r\nOrigin: https://h\xc3\xa9.example\r\n\r\n"
    )
    reply = server.raw(request, half_close=False)
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    server.stop()
    [payload] = server.payloads()
    assert payload.user_agent is not None
    assert payload.user_agent.encode("latin-1") == user_agent
    assert payload.referer_uri is not None
    assert payload.referer_uri.encode("latin-1") == referer
    pairs = [h.split(": ", 1) for h in payload.headers or []]
    stored = {name: value.encode("latin-1") for name, value in pairs}
    assert stored["User-Agent"] == user_agent
    assert stored["Referer"] == referer
    assert stored["X-Latin"] == latin1
    assert stored["Origin"] == b"https://h\xc3\xa9.example"

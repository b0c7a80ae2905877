"""`plowline up` as a real process: banner, curl page view, clean SIGTERM with flush,
persistence across a restart, a corrupt persist file, schema hot reload, --output-tsv."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
from plowline.conformance.up.testing import (
    TP2,
    http,
    page_view,
    self_describing,
    tp2_body,
    wait_for,
)

ACME = "iglu:com.acme/checkout/jsonschema/1-0-0"
CHECKOUT_SCHEMA = {
    "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
    "self": {"vendor": "com.acme", "name": "checkout", "format": "jsonschema", "version": "1-0-0"},
    "type": "object",
    "properties": {"total": {"type": "number"}},
    "required": ["total"],
    "additionalProperties": False,
}


class UpProcess:
    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plowline.conformance.cli", "up", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=_pump, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=_pump, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.url = wait_for(self._url, timeout=60, what="the banner")

    def _url(self) -> str | None:
        if self.proc.poll() is not None:
            raise AssertionError(f"plowline up exited: {''.join(self.stderr)}")
        for line in self.stdout + self.stderr:
            found = re.search(r"collector (http://\S+)", line)
            if found:
                return found.group(1)
        return None

    def terminate(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(60)
        for reader in self._readers:
            reader.join(10)
        return code


def _pump(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


@contextmanager
def up(*args: str) -> Iterator[UpProcess]:
    process = UpProcess(list(args))
    try:
        yield process
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait(30)
        for reader in process._readers:
            reader.join(10)
        for stream in (process.proc.stdout, process.proc.stderr):
            if stream is not None:
                stream.close()


def _counts(url: str) -> dict[str, int]:
    counts: dict[str, int] = http("GET", url + "/micro/all").json()
    return counts


def test_curl_page_view_is_visible_and_sigterm_flushes(tmp_path: Path) -> None:
    curl = shutil.which("curl")
    with up("--persist", str(tmp_path / "events.sqlite")) as p:
        assert "/micro/ui" in "".join(p.stdout)
        query = "e=pv&p=web&tv=curl&url=http%3A%2F%2Fexample.com%2Fcurl&page=From%20curl"
        if curl is not None:
            done = subprocess.run(
                [curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{p.url}/i?{query}"],
                capture_output=True,
                text=True,
                check=True,
            )
            assert done.stdout == "200"
        else:  # same request with the stdlib client
            assert http("GET", f"{p.url}/i?{query}").status == 200
        [good] = wait_for(lambda: http("GET", p.url + "/micro/good").json(), what="the page view")
        assert good["event"]["page_title"] == "From curl"
        # A burst right before SIGTERM is stored, not lost.
        for _ in range(20):
            assert http("POST", p.url + TP2, tp2_body(page_view(), page_view())).status == 200
        assert p.terminate() == 0
        assert "stopped" in "".join(p.stderr)
    with up("--persist", str(tmp_path / "events.sqlite")) as p:
        assert _counts(p.url) == {"total": 41, "good": 41, "bad": 0}
        assert p.terminate() == 0


def test_persistence_across_restart_keeps_good_and_bad(tmp_path: Path) -> None:
    store = tmp_path / "store" / "events.sqlite"
    with up("--persist", str(store)) as p:
        http("POST", p.url + TP2, tp2_body(page_view(title="kept")))
        http("POST", p.url + TP2, b"broken", {"Content-Type": "application/json"})
        wait_for(lambda: _counts(p.url)["total"] == 2, what="two events")
        assert p.terminate() == 0
    with up("--persist", str(store)) as p:
        assert _counts(p.url) == {"total": 2, "good": 1, "bad": 1}
        [good] = http("GET", p.url + "/micro/good").json()
        assert good["event"]["page_title"] == "kept"
        # The embedded atomic tables were kept too.
        http("POST", p.url + "/micro/reset")
        assert _counts(p.url) == {"total": 0, "good": 0, "bad": 0}
        assert p.terminate() == 0
    with up("--persist", str(store)) as p:
        assert _counts(p.url)["total"] == 0
        assert p.terminate() == 0


def test_corrupt_persist_file_is_moved_aside(tmp_path: Path) -> None:
    store = tmp_path / "events.sqlite"
    damaged = b"SQLite format 3\x00" + b"this is not a database" * 100
    store.write_bytes(damaged)
    with up("--persist", str(store)) as p:
        err = "".join(p.stderr)
        assert "moved aside" in err
        [aside] = list(tmp_path.glob("events.sqlite.corrupt-*"))
        assert aside.read_bytes() == damaged
        status = http("GET", p.url + "/plowline/status").json()
        assert status["store"]["movedAside"] == str(aside)
        http("POST", p.url + TP2, tp2_body(page_view()))
        wait_for(lambda: _counts(p.url)["good"] == 1, what="the event in the new store")
        assert p.terminate() == 0


def test_schema_hot_reload_and_bad_schema_file(tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    broken = schemas / "com.acme" / "broken" / "jsonschema" / "1-0-0"
    broken.parent.mkdir(parents=True)
    broken.write_text("{ not json")
    other = schemas / "com.acme" / "other" / "jsonschema" / "1-0-0"
    other.parent.mkdir(parents=True)
    other.write_text(
        json.dumps({**CHECKOUT_SCHEMA, "self": {**CHECKOUT_SCHEMA["self"], "name": "other"}})  # type: ignore[dict-item]
    )
    with up("--schemas", str(schemas)) as p:
        assert "schema skipped" in "".join(p.stderr)
        status = http("GET", p.url + "/plowline/status").json()
        assert [x["path"] for x in status["schemas"]["problems"]] == [str(broken)]
        assert "iglu:com.acme/other/jsonschema/1-0-0" in status["schemas"]["loaded"]
        # The good file works despite the broken one.
        http(
            "POST",
            p.url + TP2,
            tp2_body(self_describing("iglu:com.acme/other/jsonschema/1-0-0", {"total": 1})),
        )
        # Not there yet: bad.
        http("POST", p.url + TP2, tp2_body(self_describing(ACME, {"total": 9.5})))
        wait_for(lambda: _counts(p.url) == {"total": 2, "good": 1, "bad": 1}, what="1 good 1 bad")
        target = schemas / "com.acme" / "checkout" / "jsonschema" / "1-0-0"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(CHECKOUT_SCHEMA))
        generation = status["schemas"]["generation"]
        wait_for(
            lambda: (
                http("GET", p.url + "/plowline/status").json()["schemas"]["generation"] > generation
            ),
            what="the schema reload",
        )
        http("POST", p.url + TP2, tp2_body(self_describing(ACME, {"total": 9.5})))
        # Events from before the reload are kept; the new one is good.
        wait_for(lambda: _counts(p.url) == {"total": 3, "good": 2, "bad": 1}, what="2 good")
        found = http("POST", p.url + "/micro/good", {"schema": ACME}).json()
        assert found[0]["event"]["unstruct_event"]["data"]["data"] == {"total": 9.5}
        iglu = http("GET", p.url + "/micro/iglu/com.acme/checkout/jsonschema/1-0-0")
        assert iglu.status == 200
        # Breaking the file later: reported, skipped, and the server keeps working.
        target.write_text("[]")
        wait_for(
            lambda: len(http("GET", p.url + "/plowline/status").json()["schemas"]["problems"]) == 2,
            what="the second problem",
        )
        http("POST", p.url + TP2, tp2_body(page_view()))
        wait_for(lambda: _counts(p.url)["good"] == 3, what="a page view after the break")
        assert p.terminate() == 0


def test_output_tsv_streams_enriched_events(tmp_path: Path) -> None:
    with up("--output-tsv") as p:
        event = page_view(title="to stdout")
        http("POST", p.url + TP2, tp2_body(event))
        line = wait_for(lambda: next((x for x in p.stdout if event["eid"] in x), None), what="TSV")
        assert len(line.rstrip("\n").split("\t")) == 131
        assert p.terminate() == 0
    # The banner went to stderr, leaving stdout to the events.
    assert "collector http://" in "".join(p.stderr)


def test_output_json_streams_enriched_events() -> None:
    with up("--output-json") as p:
        event = page_view(title="as json")
        http("POST", p.url + TP2, tp2_body(event))
        line = wait_for(lambda: next((x for x in p.stdout if event["eid"] in x), None), what="JSON")
        assert json.loads(line)["page_title"] == "as json"
        assert p.terminate(signal.SIGINT) == 0  # Ctrl-C: clean exit, no traceback
    assert "Traceback" not in "".join(p.stderr)


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "plowline.conformance.cli", "up", "--schemas", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "is not a folder" in done.stderr


@pytest.mark.parametrize("flag", ["--port", "--persist"])
def test_help_mentions(flag: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "plowline.conformance.cli", "up", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert flag in done.stdout

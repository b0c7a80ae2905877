"""One raw record produces a bounded number of bad rows, past the limit one summary row.

A ~1 KB gzip-framed record can hold 262,143 empty payloads; one bad row each was 92 MB of bad
rows. Checked through the real ``plowline-enrich`` command and ``plowline up``'s record path.
"""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.records import enrich_record
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import encode
from plowline.spec.framing import Framing, encode_batch, unpack

EMPTY_PAYLOADS = 262_143
DEFAULT_LIMIT = 100


def _page_view(i: int) -> bytes:
    query = f"e=pv&p=web&tv=t&eid=00000000-0000-4000-8000-{i:012d}"
    return encode(payload_from_request("GET", "/i", query))


def _run_enrich(tmp_path: Path, records: list[bytes], *extra: str) -> tuple[list[str], list[Any]]:
    raw = tmp_path / "raw.bin"
    raw.write_bytes(b"".join(struct.pack(">I", len(r)) + r for r in records))
    good, bad = tmp_path / "good.tsv", tmp_path / "bad.json"
    done = subprocess.run(
        [sys.executable, "-m", "plowline.enrich", "run",
         "--input", f"{raw.as_uri()}?framing=length", "--good", good.as_uri(),
         "--bad", bad.as_uri(), "--workers", "1",
         "--exit-when-idle", "0.5", *extra],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    goods = good.read_text().splitlines() if good.exists() else []
    bads = [json.loads(line) for line in bad.read_text().splitlines()] if bad.exists() else []
    return goods, bads


def _kind(row: dict[str, Any]) -> str:
    return str(row["schema"]).split("/")[1]


def test_a_gzip_record_of_262143_empty_payloads_makes_a_bounded_number_of_bad_rows(
    tmp_path: Path,
) -> None:
    bomb = encode_batch([b""] * EMPTY_PAYLOADS, Framing.GZIP)
    assert len(bomb) < 2048  # the record is about 1 KB
    goods, bads = _run_enrich(tmp_path, [bomb])
    assert goods == []
    assert len(bads) == DEFAULT_LIMIT + 1
    *each, summary = bads
    assert {_kind(r) for r in each} == {"collector_payload_format_violation"}
    assert _kind(summary) == "collector_payload_format_violation"
    message = summary["data"]["failure"]["message"]["error"]
    assert f"{EMPTY_PAYLOADS - DEFAULT_LIMIT} more bad rows" in message
    # Nothing is lost: the summary carries the whole record, which replays as the original.
    assert base64.b64decode(summary["data"]["payload"]) == bomb


def test_good_events_of_a_record_past_the_limit_are_all_kept(tmp_path: Path) -> None:
    payloads = [_page_view(1), *([b""] * 30), _page_view(2), *([b"junk"] * 30), _page_view(3)]
    record = encode_batch(payloads, Framing.ZSTD)
    goods, bads = _run_enrich(tmp_path, [record], "--max-bad-rows-per-record", "10")
    assert [line.split("\t")[6][-1] for line in goods] == ["1", "2", "3"]
    assert len(bads) == 11
    assert "50 more bad rows" in bads[-1]["data"]["failure"]["message"]["error"]


def test_the_limit_is_per_record(tmp_path: Path) -> None:
    records = [encode_batch([b""] * 8, Framing.GZIP) for _ in range(3)]
    _, bads = _run_enrich(tmp_path, records, "--max-bad-rows-per-record", "5")
    assert len(bads) == 3 * (5 + 1)


def test_at_the_limit_there_is_no_summary(ctx: EnrichContext) -> None:
    ctx.max_bad_rows_per_record = 4
    results = enrich_record(encode_batch([b""] * 4, Framing.GZIP), ctx)
    assert len(results) == 4
    assert not any("more bad rows" in json.dumps(r.data) for r in results if isinstance(r, BadRow))


def test_plowline_up_record_path_has_the_same_bound(ctx: EnrichContext) -> None:
    events = pytest.importorskip("plowline.conformance.up.events")
    # plowline up's collector writes one CollectorPayload per record; one POST of many events
    # whose self-describing event has no schema makes one bad row per event.
    ue = json.dumps({
        "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": {"schema": "iglu:com.acme/nowhere/jsonschema/1-0-0", "data": {}},
    })  # fmt: skip
    body = {
        "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
        "data": [{"e": "ue", "p": "web", "tv": "t", "ue_pr": ue} for _ in range(DEFAULT_LIMIT + 50)]
        + [{"e": "pv", "p": "web", "tv": "t"}],
    }
    record = encode(payload_from_request(
        "POST", "/com.snowplowanalytics.snowplow/tp2", None,
        headers={"Content-Type": "application/json"}, body=json.dumps(body),
    ))  # fmt: skip
    items = events.process_record(record, ctx)
    bad = [i for i in items if isinstance(i, events.BadItem)]
    good = [i for i in items if isinstance(i, events.GoodItem)]
    assert len(good) == 1
    assert len(bad) == DEFAULT_LIMIT + 1
    assert bad[-1].kind == "collector_payload_format_violation"
    # The same record through plowline-enrich: the same bound, the same summary.
    results = enrich_record(record, ctx)
    assert len([r for r in results if isinstance(r, EnrichedEvent)]) == 1
    assert len(results) == DEFAULT_LIMIT + 2
    assert unpack(record) == [record]

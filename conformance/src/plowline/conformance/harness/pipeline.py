"""The pipeline tier: HTTP requests -> collector -> raw records -> enricher -> events / bad rows.

Each case's requests go to a collector (in-process by default, or ``--collector-url``), the
raw records it wrote go to an enricher (in-process by default, or ``--enricher-command``), and
the case's expectations are judged on the answers, the raw records, the enriched events
(subset match by field name; JSON fields by meaning; volatile fields by format) and the bad
rows (type, schema, substrings; every bad row must validate against its own schema).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, Final

import orjson
from plowline.collector.framing import unpack
from plowline.collector.payload import decode
from plowline.conformance.harness.outcomes import CaseResult, Outcome
from plowline.conformance.harness.pipeline_cases import PipelineCase
from plowline.conformance.harness.pipeline_parts import (
    Collector,
    Enriched,
    Enricher,
    Exchange,
    InProcessCollector,
    InProcessEnricher,
    PipelineError,
    enrich_layer_record,
)
from plowline.spec.tables import enriched_fields
from plowline.spec.validation import Validator

JSON_FIELDS: Final = frozenset({"contexts", "unstruct_event", "derived_contexts"})
_TIMESTAMP: Final = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,3})?$")
_INTEGER: Final = re.compile(r"^-?\d+$")
_IP: Final = re.compile(r"^[0-9A-Fa-f.:]+$")
ENRICH_LAYER_COLLECTOR: Final = "plowline-conformance"


@cache
def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in enriched_fields())


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


FORMATS: Final[dict[str, Callable[[str], bool]]] = {
    "uuid": _is_uuid,
    "timestamp": lambda t: bool(_TIMESTAMP.match(t)),
    "non-empty": bool,
    "integer": lambda t: bool(_INTEGER.match(t)),
    "ip": lambda t: bool(_IP.match(t)),
}


def parse_tsv(line: str) -> dict[str, str | None] | str:
    """An enriched TSV line as field -> text (empty -> None), or a problem description."""
    values = line.split("\t")
    names = field_names()
    if len(values) != len(names):
        return f"enriched event has {len(values)} TSV fields, not {len(names)}"
    return {n: (v or None) for n, v in zip(names, values, strict=True)}


def _json_equal(got: str, want: Any) -> bool:
    try:
        left = json.loads(got)
        right = json.loads(want) if isinstance(want, str) else want
    except (json.JSONDecodeError, TypeError):
        return False
    return bool(left == right)


def field_problems(name: str, got: str | None, want: Any) -> list[str]:
    """Why ``got`` does not meet ``want`` (``field_expectation`` in pipeline/case.schema.json)."""
    if want is None or want == "":
        return [] if got is None else [f"{name}: expected empty, got {got!r}"]
    if not isinstance(want, Mapping):
        text = want if isinstance(want, str) else json.dumps(want)
        if got == text or (got is not None and name in JSON_FIELDS and _json_equal(got, text)):
            return []
        return [f"{name}: expected {text!r}, got {got!r}"]
    if got is None:
        return [f"{name}: expected a value ({dict(want)}), got nothing"]
    out = []
    if "format" in want and not FORMATS[want["format"]](got):
        out.append(f"{name}: {got!r} is not a {want['format']}")
    if "json" in want and not _json_equal(got, want["json"]):
        out.append(f"{name}: JSON {got!r} differs from {json.dumps(want['json'])}")
    if "contains" in want and want["contains"] not in got:
        out.append(f"{name}: {got!r} does not contain {want['contains']!r}")
    if "not" in want and want["not"] in got:
        out.append(f"{name}: {got!r} must not contain {want['not']!r}")
    return out


def fields_problems(
    where: str, got: Mapping[str, str | None], want: Mapping[str, Any]
) -> list[str]:
    return [f"{where} {p}" for n, w in want.items() for p in field_problems(n, got.get(n), w)]


# Every enriched event, whatever the case says.
ALWAYS: Final[dict[str, Any]] = {
    "event_id": {"format": "uuid"},
    "collector_tstamp": {"format": "timestamp"},
    "etl_tstamp": {"format": "timestamp"},
    "v_etl": {"format": "non-empty"},
    "v_collector": {"format": "non-empty"},
    "event": {"format": "non-empty"},
}


@dataclass(frozen=True, slots=True)
class BadRow:
    origin: str  # "collector" or "enrich"
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        schema = str(self.doc.get("schema", ""))
        return schema.split("/")[1] if schema.count("/") >= 3 else ""

    def failure_texts(self) -> tuple[str, str]:
        failure = (self.doc.get("data") or {}).get("failure")
        return (
            json.dumps(failure, ensure_ascii=False, separators=(",", ":")),
            json.dumps(failure, ensure_ascii=False),
        )


def _bad_rows(origin: str, records: Sequence[bytes], out: list[str]) -> list[BadRow]:
    rows = []
    for number, record in enumerate(records):
        try:
            doc = orjson.loads(record)
        except orjson.JSONDecodeError as error:
            out.append(f"{origin} bad row {number} is not JSON: {error}")
            continue
        if not isinstance(doc, dict):
            out.append(f"{origin} bad row {number} is not a JSON object")
            continue
        report = Validator().validate_parsed(doc)
        if not report.valid:
            out.append(f"{origin} bad row {number} breaks its schema: " + "; ".join(report.lines()))
        rows.append(BadRow(origin, doc))
    return rows


def _row_matches(row: BadRow, want: Mapping[str, Any]) -> bool:
    if row.kind != want["type"]:
        return False
    if "from" in want and row.origin != want["from"]:
        return False
    if "schema" in want and row.doc.get("schema") != want["schema"]:
        return False
    texts = row.failure_texts()
    return all(any(s in t for t in texts) for s in want.get("contains") or ())


def bad_row_problems(
    rows: list[BadRow], expect: Mapping[str, Any], skip_collector: bool
) -> list[str]:
    wanted = [
        w
        for w in expect.get("bad_rows") or ()
        if not (skip_collector and w.get("from") == "collector")
    ]
    out = []
    unused = list(rows)
    for want in wanted:
        found = next((r for r in unused if _row_matches(r, want)), None)
        if found is None:
            seen = ", ".join(f"{r.origin}:{r.kind}" for r in rows) or "none"
            out.append(f"no bad row matches {dict(want)} (bad rows: {seen})")
        else:
            unused.remove(found)
    count = expect.get("bad_count", len(expect.get("bad_rows") or ()))
    if not skip_collector and len(rows) != count:
        summary = [f"{r.origin}:{r.kind} {r.failure_texts()[0][:200]}" for r in rows]
        out.append(f"expected {count} bad row(s), got {len(rows)}: {summary}")
    elif skip_collector and len(rows) < len(wanted):
        out.append(f"expected at least {len(wanted)} bad row(s), got {len(rows)}")
    return out


def _raw_problems(exchange: Exchange, expect: Mapping[str, Any]) -> list[str]:
    if "raw_count" not in expect and "raw" not in expect:
        return []
    out: list[str] = []
    payloads = []
    for record in exchange.raw:
        try:
            payloads += [decode(p) for p in unpack(record)]
        except Exception as error:
            out.append(f"raw record does not decode: {type(error).__name__}: {error}")
    if "raw_count" in expect and len(payloads) != expect["raw_count"]:
        out.append(f"expected {expect['raw_count']} raw payload(s), got {len(payloads)}")
    names = [f.name for f in fields(payloads[0])] if payloads else []
    for number, want in enumerate(expect.get("raw") or ()):
        if number >= len(payloads):
            out.append(f"raw payload {number} missing")
            continue
        got = {n: _text(getattr(payloads[number], n)) for n in names}
        out += fields_problems(f"raw payload {number}", got, want)
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _answer_problems(case: PipelineCase, exchange: Exchange) -> list[str]:
    out = []
    for number, (request, answer) in enumerate(zip(case.requests, exchange.answers, strict=False)):
        want = request.get("expect_status")
        if want is not None and answer.status != want:
            out.append(f"request {number}: status {answer.status}, expected {want}")
        for name, fragment in (request.get("expect_headers") or {}).items():
            values = answer.header_values(name)
            if not any(fragment in v for v in values):
                out.append(f"request {number}: header {name} {values} lacks {fragment!r}")
        if "expect_set_cookie" in request:
            has = bool(answer.header_values("set-cookie"))
            if has != request["expect_set_cookie"]:
                out.append(f"request {number}: Set-Cookie {'sent' if has else 'missing'}")
    return out


def _event_problems(enriched: Enriched, expect: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    events = []
    for line in enriched.good:
        parsed = parse_tsv(line)
        if isinstance(parsed, str):
            out.append(parsed)
        else:
            events.append(parsed)
    wanted = list(expect.get("events") or ())
    count = expect.get("event_count", len(wanted))
    if len(events) != count:
        names = [e.get("event") for e in events]
        out.append(f"expected {count} enriched event(s), got {len(events)} {names}")
    for number, event in enumerate(events):
        out += fields_problems(f"event {number}", event, ALWAYS)
        out += fields_problems(f"event {number}", event, expect.get("every_event") or {})
        if number < len(wanted):
            out += fields_problems(f"event {number}", event, wanted[number])
    return out


@dataclass(slots=True)
class PipelineRun:
    """How to run the tier: which collector and enricher, which needs the run can meet."""

    collector: Collector = field(default_factory=InProcessCollector)
    enricher: Enricher = field(default_factory=InProcessEnricher)

    def unmet(self, case: PipelineCase) -> list[str]:
        """What a case needs that this run cannot give (a remote collector has its own config
        and sees the harness's own address)."""
        if case.layer == "enrich" or not self.collector.remote:
            return []
        needs = set(case.requires)
        if any("user_ipaddress" in e for e in case.expect.get("events") or ()):
            needs.add("client-ip")
        return sorted(needs & {"collector-config", "client-ip"})

    def judge(self, case: PipelineCase) -> list[str]:
        if case.layer == "enrich":
            exchange = Exchange(collector_bad=[])
            exchange.raw = [enrich_layer_record(r, ENRICH_LAYER_COLLECTOR) for r in case.requests]
        else:
            exchange = self.collector.exchange(case.requests, case.collector)
        out = _answer_problems(case, exchange)
        out += _raw_problems(exchange, case.expect)
        enriched = self.enricher.enrich(exchange.raw)
        out += _event_problems(enriched, case.expect)
        rows = _bad_rows("collector", exchange.collector_bad or [], out)
        rows += _bad_rows("enrich", enriched.bad, out)
        out += bad_row_problems(rows, case.expect, skip_collector=exchange.collector_bad is None)
        return out


def run_pipeline_case(run: PipelineRun, case: PipelineCase) -> CaseResult:
    started = time.monotonic()

    def result(outcome: Outcome, message: str, details: list[str]) -> CaseResult:
        return CaseResult(
            case=case.id,
            group=case.group,
            outcome=outcome,
            message=message,
            requires=tuple(sorted(case.requires)),
            covers=case.covers,
            duration_ms=int((time.monotonic() - started) * 1000),
            details=details,
        )

    unmet = run.unmet(case)
    if unmet:
        return result(Outcome.SKIPPED, f"this run cannot give: {', '.join(unmet)}", [])
    try:
        found = run.judge(case)
    except PipelineError as error:
        return result(Outcome.ERRORED, str(error), [str(error)])
    if found:
        return result(Outcome.FAILED, found[0], found)
    return result(Outcome.PASSED, "", [])


def run_pipeline_cases(
    cases: Sequence[PipelineCase],
    run: PipelineRun,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    results = []
    for case in cases:
        outcome = run_pipeline_case(run, case)
        results.append(outcome)
        if on_result is not None:
            on_result(outcome)
    return results

"""The pipeline tier: every case passes in-process, and the judge fails what it should."""

from __future__ import annotations

import dataclasses
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plowline.conformance.harness import cli
from plowline.conformance.harness.outcomes import Outcome
from plowline.conformance.harness.pipeline import (
    PipelineRun,
    field_names,
    field_problems,
    parse_tsv,
    run_pipeline_case,
)
from plowline.conformance.harness.pipeline_cases import PipelineCase, load_pipeline_cases
from plowline.conformance.harness.pipeline_checks import check_pipeline_cases
from plowline.conformance.harness.pipeline_parts import (
    CommandEnricher,
    Enriched,
    Exchange,
    InProcessCollector,
    InProcessEnricher,
)

CASES = load_pipeline_cases()
BY_ID = {c.id: c for c in CASES}


@pytest.fixture(scope="module")
def run() -> PipelineRun:
    return PipelineRun()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}/{c.id}" for c in CASES])
def test_conformance_pipeline_case_passes_in_process(run: PipelineRun, case: PipelineCase) -> None:
    result = run_pipeline_case(run, case)
    assert result.outcome is Outcome.PASSED, "\n".join(result.details)


def test_corpus_is_sane_and_big_enough() -> None:
    count, problems = check_pipeline_cases("pipeline")
    assert problems == []
    assert count >= 40
    hand_written = [c for c in CASES if c.vector is None]
    assert len(hand_written) >= 40
    assert all(c.covers for c in CASES)


def test_every_bad_row_type_the_pipeline_makes_is_asserted() -> None:
    named = {row["type"] for c in CASES for row in c.expect.get("bad_rows") or ()}
    assert named >= {
        "size_violation",
        "collector_payload_format_violation",
        "adapter_failures",
        "tracker_protocol_violations",
        "schema_violations",
        "enrichment_failures",
    }


def test_vector_cases_take_request_and_expectations_from_the_vector() -> None:
    case = BY_ID["enrich-network-userid-from-cookie"]
    assert case.requests[0]["headers"]["Cookie"].startswith("sp=")
    assert case.expect["events"][0]["network_userid"] == "c0ffee00-1111-4222-8333-444455556666"
    derived = BY_ID["enrich-derived-tstamp-no-stm"].expect["events"][0]
    assert derived["derived_tstamp"] == {"format": "timestamp"}
    true_wins = BY_ID["enrich-derived-tstamp-true-tstamp-wins"].expect["events"][0]
    assert true_wins["derived_tstamp"] == "2022-10-09 07:20:00.007"
    bad = BY_ID["bad-post-wrong-content-type"].expect
    assert bad["bad_rows"][0]["type"] == "tracker_protocol_violations"
    assert bad["event_count"] == 0


def _mutated(case_id: str, **changes: Any) -> PipelineCase:
    return dataclasses.replace(BY_ID[case_id], **changes)


def test_a_wrong_field_fails(run: PipelineRun) -> None:
    case = BY_ID["get-i-page-view"]
    events = [{**case.expect["events"][0], "page_title": "Other"}]
    result = run_pipeline_case(run, _mutated(case.id, expect={**case.expect, "events": events}))
    assert result.outcome is Outcome.FAILED
    assert "page_title" in result.message


def test_a_wrong_status_and_missing_cookie_fail(run: PipelineRun) -> None:
    case = BY_ID["cookie-disabled"]
    request = {**case.requests[0], "expect_status": 204, "expect_set_cookie": True}
    result = run_pipeline_case(run, _mutated(case.id, requests=(request,)))
    assert result.outcome is Outcome.FAILED
    assert any("status 200, expected 204" in d for d in result.details)
    assert any("Set-Cookie missing" in d for d in result.details)


def test_an_unexpected_bad_row_fails(run: PipelineRun) -> None:
    case = BY_ID["nuid-not-uuid"]
    result = run_pipeline_case(run, _mutated(case.id, expect={"raw_count": 1}))
    assert result.outcome is Outcome.FAILED
    assert "expected 0 bad row(s), got 1" in result.message


def test_a_missing_event_fails(run: PipelineRun) -> None:
    case = BY_ID["post-tp2-mixed-batch"]
    result = run_pipeline_case(run, _mutated(case.id, expect={**case.expect, "event_count": 4}))
    assert result.outcome is Outcome.FAILED
    assert "expected 4 enriched event(s), got 3" in result.message


class _FixedEnricher:
    def __init__(self, good: list[str], bad: list[bytes]) -> None:
        self.out = Enriched(good, bad)

    def enrich(self, records: Sequence[bytes]) -> Enriched:
        return self.out


def test_a_bad_row_breaking_its_schema_fails() -> None:
    schema = "iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0"
    row = b'{"schema":"' + schema.encode() + b'","data":{}}'
    run = PipelineRun(enricher=_FixedEnricher([], [row]))
    case = BY_ID["unsupported-vendor"]
    result = run_pipeline_case(run, case)
    assert result.outcome is Outcome.FAILED
    assert any("breaks its schema" in d for d in result.details)


def test_a_short_tsv_line_fails() -> None:
    run = PipelineRun(enricher=_FixedEnricher(["a\tb"], []))
    result = run_pipeline_case(run, BY_ID["get-ice-png-structured"])
    assert result.outcome is Outcome.FAILED
    assert "2 TSV fields, not 131" in result.message


class _FakeRemote:
    remote = True

    def exchange(
        self, requests: Sequence[Mapping[str, Any]], config: Mapping[str, Any]
    ) -> Exchange:
        return InProcessCollector().exchange(requests, {})

    def close(self) -> None:
        pass


def test_a_remote_collector_skips_what_it_cannot_give() -> None:
    run = PipelineRun(collector=_FakeRemote())
    assert run_pipeline_case(run, BY_ID["single-event-too-big"]).outcome is Outcome.SKIPPED
    assert run_pipeline_case(run, BY_ID["x-forwarded-for-ip"]).outcome is Outcome.SKIPPED
    assert run_pipeline_case(run, BY_ID["post-tp2-mixed-batch"]).outcome is Outcome.PASSED
    # An enrich-layer case needs no collector at all.
    assert run_pipeline_case(run, BY_ID["bad-path-three-segments"]).outcome is Outcome.PASSED


STDIN_ENRICHER = """
import struct, sys
from plowline.enrich.worker import WorkerConfig, build_context
from plowline.enrich.records import enrich_record
from plowline.enrich.outputs import to_outputs
ctx = build_context(WorkerConfig())
data = sys.stdin.buffer.read()
while data:
    (size,) = struct.unpack(">I", data[:4])
    record, data = data[4 : 4 + size], data[4 + size :]
    for _, value in to_outputs(enrich_record(record, ctx), ctx.processor, 0):
        sys.stdout.buffer.write(value + b"\\n")
"""


def test_a_command_enricher_reads_length_prefixed_stdin() -> None:
    command = shlex.join([sys.executable, "-c", STDIN_ENRICHER])
    run = PipelineRun(enricher=CommandEnricher(command))
    for case_id in ("post-tp2-mixed-batch", "bad-and-good-in-one-run", "batch-split"):
        result = run_pipeline_case(run, BY_ID[case_id])
        assert result.outcome is Outcome.PASSED, "\n".join(result.details)


def test_plowline_enrich_runs_as_the_enricher_command() -> None:
    command = shlex.join([
        sys.executable, "-m", "plowline.enrich", "run",
        "--input", "file://{input}?framing=length", "--good", "stdout:", "--bad", "stdout:",
        "--exit-when-idle", "0.3", "--workers", "1",
    ])  # fmt: skip
    run = PipelineRun(enricher=CommandEnricher(command))
    for case_id in ("sp-anonymous-with-cookie", "ad-impression-enrichment-failure"):
        result = run_pipeline_case(run, BY_ID[case_id])
        assert result.outcome is Outcome.PASSED, "\n".join(result.details)


def test_a_failing_command_errors_the_case() -> None:
    command = shlex.join([sys.executable, "-c", "import sys; sys.exit(3)"])
    result = run_pipeline_case(
        PipelineRun(enricher=CommandEnricher(command)), BY_ID["head-i-recorded"]
    )
    assert result.outcome is Outcome.ERRORED
    assert "exited 3" in result.message


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_runs_the_tier_without_a_driver(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "pipeline.jsonl"
    code, out, _ = _cli(
        capsys, "run", "--tier", "pipeline", "-k", "redirect", "--report", str(report)
    )
    assert code == 0, out
    assert "passed" in out.splitlines()[-1]
    assert '"tier": "pipeline"' in report.read_text(encoding="utf-8")


def test_cli_check_cases_pipeline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "check-cases", "--tier", "pipeline")
    assert code == 0, out
    assert "0 problem(s)" in out


def test_cli_remote_collector_needs_raw_from(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(
        capsys, "run", "--tier", "pipeline", "--collector-url", "http://127.0.0.1:1"
    )
    assert code == 2
    assert "--raw-from" in err


def test_cli_tracker_tier_still_needs_a_driver(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "run")
    assert code == 2
    assert "--driver or --manifest" in err


def test_in_process_enricher_gives_131_fields() -> None:
    exchange = InProcessCollector().exchange(BY_ID["head-i-recorded"].requests, {})
    enriched = InProcessEnricher().enrich(exchange.raw)
    parsed = parse_tsv(enriched.good[0])
    assert isinstance(parsed, dict)
    assert tuple(parsed) == field_names()


@pytest.mark.parametrize(
    ("got", "want", "ok"),
    [
        (None, None, True),
        ("x", None, False),
        ("2022-10-10 10:42:34.500", {"format": "timestamp"}, True),
        ("2022-10-10T10:42:34Z", {"format": "timestamp"}, False),
        ("ABC", {"format": "uuid"}, False),
        ('{"a": [1, 2]}', {"json": {"a": [1, 2]}}, True),
        ("abc", {"contains": "b", "not": "z"}, True),
        ("abc", {"not": "b"}, False),
        (None, {"format": "non-empty"}, False),
        ("1.5", 1.5, True),
    ],
)
def test_field_expectations(got: str | None, want: Any, ok: bool) -> None:
    assert (field_problems("se_value", got, want) == []) is ok


@given(st.text())
def test_field_expectations_never_raise_and_exact_text_matches_itself(text: str) -> None:
    want = text or None
    assert field_problems("contexts", text or None, want) == []
    for fmt in ("uuid", "timestamp", "non-empty", "integer", "ip"):
        field_problems("event_id", text, {"format": fmt})


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\t\n")), max_size=140))
def test_parse_tsv_never_raises(values: list[str]) -> None:
    parsed = parse_tsv("\t".join(values))
    assert isinstance(parsed, dict) == (len(values) == len(field_names()))

"""The end-to-end tier: the Python tracker -> the whole pipeline on real services -> final data.

Routes (a case's ``route``):

* ``kafka-postgres``: tracker -> ``plowline-collector`` (HTTP server, Kafka sinks) -> Kafka ->
  ``plowline-enrich run`` (Kafka -> Kafka) -> ``plowline-load postgres --from kafka`` ->
  PostgreSQL; expectations on table rows, and on the bad rows in the bad topics.
* ``kinesis-s3``: tracker -> collector (Kinesis sinks) -> ``plowline-enrich run`` (Kinesis ->
  S3 on LocalStack); expectations on the enriched lines in the objects, and the bad rows.

Every component runs as its own process with its real command line, so this tier proves the
wiring (URLs, framing, offsets, drain on SIGTERM) as well as the data. Services come from the
conformance pytest plugin (``kafka``, ``postgres``, ``aws`` fixtures).
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator
from plowline.conformance.harness.cases import matches, read_case_document
from plowline.conformance.harness.errors import FileProblemsError
from plowline.conformance.harness.paths import cases_root
from plowline.conformance.harness.pipeline import (
    BadRow,
    bad_row_problems,
    fields_problems,
    parse_tsv,
)
from plowline.conformance.harness.pipeline_cases import pipeline_case_files
from plowline.conformance.harness.pipeline_parts import PipelineError, drain_source, send_http
from plowline.conformance.harness.schemas import problems
from plowline.spec.validation import Validator
from referencing import Registry, Resource

ROUTES: Final = ("kafka-postgres", "kinesis-s3")
IDLE_EXIT_S: Final = 8.0
STEP_TIMEOUT_S: Final = 180.0


class E2EError(Exception):
    """A component would not start, crashed or timed out."""


@dataclass(frozen=True, slots=True)
class E2ECase:
    id: str
    group: str
    description: str
    covers: tuple[str, ...]
    route: str
    tracker: Mapping[str, Any]
    track: tuple[Mapping[str, Any], ...]
    requests: tuple[Mapping[str, Any], ...]
    expect: Mapping[str, Any]
    path: Path


@cache
def e2e_validator() -> Draft202012Validator:
    root = cases_root()
    pipeline = json.loads((root / "pipeline" / "case.schema.json").read_text(encoding="utf-8"))
    schema = json.loads((root / "e2e" / "case.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    registry: Registry[Any] = Registry().with_resource(
        pipeline["$id"], Resource.from_contents(pipeline)
    )
    return Draft202012Validator(schema, registry=registry)


def load_e2e_case(path: Path) -> E2ECase:
    doc = read_case_document(path)
    found = problems(e2e_validator(), doc)
    if not found and doc["id"] != path.stem:
        found.append(f"id {doc['id']!r} differs from the file name {path.stem!r}")
    if not found and path.parent.name != doc["group"]:
        found.append(f"group {doc['group']!r} but the file is in {path.parent.name!r}")
    if found:
        raise FileProblemsError(path, found)
    return E2ECase(
        id=doc["id"],
        group=doc["group"],
        description=doc["description"],
        covers=tuple(doc["covers"]),
        route=doc["route"],
        tracker=copy.deepcopy(doc.get("tracker") or {}),
        track=tuple(doc.get("track") or ()),
        requests=tuple(doc.get("requests") or ()),
        expect=copy.deepcopy(doc["expect"]),
        path=path,
    )


def load_e2e_cases(root: Path | None = None, keyword: str | None = None) -> list[E2ECase]:
    cases = [load_e2e_case(p) for p in pipeline_case_files("e2e", root)]
    if keyword:
        cases = [c for c in cases if matches(c, keyword)]
    return sorted(cases, key=lambda c: (c.group, c.id))


def check_e2e_cases(root: Path | None = None) -> tuple[int, list[str]]:
    """``check-cases --tier e2e``: schema, ids, folders, covers, field and bad-row names."""
    from plowline.conformance.harness.pipeline_checks import BADROWS_VENDOR, cover_problem
    from plowline.spec.data import data_path
    from plowline.spec.tables import enriched_fields, parameters

    names = {
        "parameters": {p.name for p in parameters()},
        "enriched": {f.name for f in enriched_fields()},
    }
    found: list[str] = []
    seen: dict[str, Path] = {}
    files = pipeline_case_files("e2e", root)
    for path in files:
        try:
            case = load_e2e_case(path)
        except FileProblemsError as error:
            found += [f"{path}: {p}" for p in error.problems]
            continue
        if case.id in seen:
            found.append(f"{path}: id {case.id!r} is also used by {seen[case.id]}")
        seen[case.id] = path
        if case.group != case.route:
            found.append(f"{path}: group {case.group!r} must equal the route {case.route!r}")
        found += [f"{path}: {p}" for r in case.covers if (p := cover_problem(r, names))]
        wanted = [*(case.expect.get("objects") or {}).get("events", ())]
        wanted += (case.expect.get("tables") or {}).get("atomic.events", {}).get("rows", [])
        unknown = sorted({n for w in wanted for n in w} - names["enriched"])
        found += [f"{path}: expect names unknown enriched field {n!r}" for n in unknown]
        for row in case.expect.get("bad_rows") or ():
            if not data_path("schemas", BADROWS_VENDOR, row["type"]).is_dir():
                found.append(f"{path}: unknown bad-row type {row['type']!r}")
    if not files:
        found.append(f"no cases under {(root or Path('cases')) / 'e2e'}")
    return len(files), found


# --- services -----------------------------------------------------------------------------


@dataclass(slots=True)
class Services:
    """What the routes need; any may be missing (its route's cases cannot run)."""

    kafka_bootstrap: str | None = None
    postgres_dsn: str | None = None
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    aws_env: dict[str, str] = field(default_factory=dict)
    new_topic: Callable[[], str] | None = None
    new_stream: Callable[[], str] | None = None
    new_bucket: Callable[[], str] | None = None
    s3_client: Any = None  # a boto3 S3 client for LocalStack (reads the objects back)

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.aws_env}


def tool(name: str) -> str:
    """A workspace console script (beside this interpreter), else the name on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_collector(sink_env: Mapping[str, str], env: Mapping[str, str]) -> Iterator[str]:
    """``plowline-collector`` on a free loopback port; yields its base URL; SIGTERM drains."""
    port = _free_port()
    prefix = "PLOWLINE_COLLECTOR_"
    full = {
        **env,
        f"{prefix}HTTP__HOST": "127.0.0.1",
        f"{prefix}HTTP__PORT": str(port),
        **{prefix + k: v for k, v in sink_env.items()},
    }
    proc = subprocess.Popen(
        [tool("plowline-collector")],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
                raise E2EError(f"plowline-collector exited {proc.returncode}: {err[-800:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise E2EError("plowline-collector did not answer /health within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def run_tool(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """Run a pipeline command to completion; its stdout, or E2EError with its stderr."""
    try:
        done = subprocess.run(
            list(argv),
            env=dict(env),
            capture_output=True,
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise E2EError(f"{argv[0]}: {error}") from error
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip()[-800:]
        raise E2EError(f"{Path(argv[0]).name} exited {done.returncode}: {tail}")
    return done.stdout.decode("utf-8", "replace")


def send_tracker_events(url: str, case: E2ECase) -> None:
    """Track the case's events with the Python tracker (synchronous emitter), then flush."""
    from plowline.tracker import SyncEmitter, Tracker
    from plowline.tracker.neutral import event_from_neutral, subject_from_neutral

    settings = case.tracker
    emitter = SyncEmitter(
        url,
        method=settings.get("method", "POST"),
        batch_size=int(settings.get("batch_size", 1)),
    )
    tracker = Tracker(
        emitter,
        namespace=settings.get("namespace", "e2e"),
        app_id=settings.get("app_id", "e2e"),
        platform=settings.get("platform", "web"),
        encode_base64=bool(settings.get("encode_base64", True)),
        subject=subject_from_neutral(settings.get("subject")),
    )
    for spec in case.track:
        tracker.track(event_from_neutral(spec))
    if not emitter.flush(timeout=30):
        raise E2EError("the tracker could not deliver every event to the collector")
    emitter.close()


def send_requests(url: str, case: E2ECase) -> list[str]:
    out = []
    for number, request in enumerate(case.requests):
        try:
            answer = send_http(url, request)
        except PipelineError as error:
            raise E2EError(str(error)) from error
        want = request.get("expect_status")
        if want is not None and answer.status != want:
            out.append(f"request {number}: status {answer.status}, expected {want}")
    return out


def drain(url: str, env: Mapping[str, str], settle_s: float = 3.0) -> list[bytes]:
    """Every record a stream holds now (a fresh consumer group / iterator)."""
    from plowline.streams import open_source

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        source = open_source(url)
        try:
            return drain_source(source, settle_s=settle_s, limit_s=60.0)
        finally:
            source.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- judging ------------------------------------------------------------------------------


def column_text(value: Any) -> str | None:
    """A column value as the enriched TSV would write it (numbers without a trailing .0)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def rows_problems(
    where: str, rows: list[dict[str, str | None]], want: Mapping[str, Any]
) -> list[str]:
    out = []
    if "count" in want and len(rows) != want["count"]:
        out.append(f"{where}: expected {want['count']} row(s), got {len(rows)}")
    unused = list(rows)
    for number, expected in enumerate(want.get("rows") or ()):
        hit = next((r for r in unused if not fields_problems("", r, expected)), None)
        if hit is None:
            closest = fields_problems("", unused[0], expected) if unused else ["no rows left"]
            out.append(f"{where}: no row matches expectation {number}: {closest[:3]}")
        else:
            unused.remove(hit)
    return out


def _bad(records: Sequence[bytes], origin: str, out: list[str]) -> list[BadRow]:
    rows = []
    for record in records:
        try:
            doc = json.loads(record)
        except ValueError:
            out.append(f"{origin} bad stream holds a non-JSON record: {record[:80]!r}")
            continue
        report = Validator().validate_parsed(doc)
        if not report.valid:
            out.append(f"{origin} bad row breaks its schema: " + "; ".join(report.lines()))
        rows.append(BadRow(origin, doc))
    return rows


def _postgres_tables(dsn: str, tables: Sequence[str]) -> dict[str, list[dict[str, str | None]]]:
    import psycopg
    from psycopg import sql
    from psycopg.rows import dict_row

    out: dict[str, list[dict[str, str | None]]] = {}
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        for name in tables:
            schema, _, table = name.partition(".")
            try:
                query = sql.SQL("SELECT * FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
                rows = conn.execute(query).fetchall()
            except psycopg.errors.UndefinedTable:
                conn.rollback()
                rows = []
            out[name] = [{k: column_text(v) for k, v in row.items()} for row in rows]
    return out


# --- routes -------------------------------------------------------------------------------


def run_kafka_postgres(case: E2ECase, services: Services) -> list[str]:
    if not (services.kafka_bootstrap and services.postgres_dsn and services.new_topic):
        raise E2EError("route kafka-postgres needs Kafka and PostgreSQL")
    boot = services.kafka_bootstrap
    raw, cbad, good, ebad = (services.new_topic() for _ in range(4))
    env = services.env()
    sinks = {
        "SINKS__GOOD__TYPE": "kafka",
        "SINKS__GOOD__BOOTSTRAP_SERVERS": boot,
        "SINKS__GOOD__TOPIC": raw,
        "SINKS__BAD__TYPE": "kafka",
        "SINKS__BAD__BOOTSTRAP_SERVERS": boot,
        "SINKS__BAD__TOPIC": cbad,
    }
    out: list[str] = []
    with running_collector(sinks, env) as url:
        if case.track:
            send_tracker_events(url, case)
        out += send_requests(url, case)
    tag = uuid.uuid4().hex[:8]
    run_tool([
        tool("plowline-enrich"), "run",
        "--input", f"kafka://{boot}/{raw}?group=enrich-{tag}",
        "--good", f"kafka://{boot}/{good}", "--bad", f"kafka://{boot}/{ebad}",
        "--workers", "1", "--exit-when-idle", str(IDLE_EXIT_S),
    ], env)  # fmt: skip
    run_tool([
        tool("plowline-load"), "postgres",
        "--from", f"kafka://{boot}/{good}?group=load-{tag}",
        "--dsn", services.postgres_dsn, "--idle-exit", str(IDLE_EXIT_S), "--max-wait", "1",
    ], env)  # fmt: skip
    tables = case.expect.get("tables") or {}
    found = _postgres_tables(services.postgres_dsn, list(tables))
    for name, want in tables.items():
        out += rows_problems(name, found[name], want)
    rows = _bad(drain(f"kafka://{boot}/{cbad}?group=check-{tag}", {}), "collector", out)
    rows += _bad(drain(f"kafka://{boot}/{ebad}?group=check-{tag}", {}), "enrich", out)
    out += bad_row_problems(rows, case.expect, skip_collector=False)
    return out


def _s3_lines(services: Services, bucket: str, prefix: str) -> list[str]:
    client = services.s3_client
    lines: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            if item["Key"].endswith(".gz"):
                body = gzip.decompress(body)
            lines += [x for x in body.decode("utf-8").split("\n") if x]
    return lines


def run_kinesis_s3(case: E2ECase, services: Services) -> list[str]:
    new_stream, new_bucket = services.new_stream, services.new_bucket
    endpoint, region = services.aws_endpoint_url, services.aws_region
    if not (endpoint and new_stream and new_bucket and services.s3_client is not None):
        raise E2EError("route kinesis-s3 needs LocalStack (Kinesis and S3)")
    aws_opts = f"endpoint_url={endpoint}&region={region}"
    raw, cbad = new_stream(), new_stream()
    bucket = new_bucket()
    env = services.env()
    sinks = {
        "SINKS__GOOD__TYPE": "kinesis",
        "SINKS__GOOD__STREAM_NAME": raw,
        "SINKS__GOOD__ENDPOINT_URL": endpoint,
        "SINKS__GOOD__REGION": region,
        "SINKS__BAD__TYPE": "kinesis",
        "SINKS__BAD__STREAM_NAME": cbad,
        "SINKS__BAD__ENDPOINT_URL": endpoint,
        "SINKS__BAD__REGION": region,
    }
    out: list[str] = []
    with running_collector(sinks, env) as url:
        if case.track:
            send_tracker_events(url, case)
        out += send_requests(url, case)
    run_tool([
        tool("plowline-enrich"), "run",
        "--input", f"kinesis://{raw}?{aws_opts}",
        "--good", f"s3://{bucket}/enriched?{aws_opts}",
        "--bad", f"s3://{bucket}/bad?{aws_opts}",
        "--workers", "1", "--exit-when-idle", str(IDLE_EXIT_S),
    ], env)  # fmt: skip
    events: list[dict[str, str | None]] = []
    for line in _s3_lines(services, bucket, "enriched"):
        parsed = parse_tsv(line)
        if isinstance(parsed, str):
            out.append(parsed)
        else:
            events.append(parsed)
    want = case.expect.get("objects") or {}
    if want:
        out += rows_problems("S3 enriched objects", events, {
            "count": want.get("count", len(want.get("events") or ())),
            "rows": want.get("events") or [],
        })  # fmt: skip
    bad_lines = [x.encode() for x in _s3_lines(services, bucket, "bad")]
    rows = _bad(drain(f"kinesis://{cbad}?{aws_opts}", services.aws_env), "collector", out)
    rows += _bad(bad_lines, "enrich", out)
    out += bad_row_problems(rows, case.expect, skip_collector=False)
    return out


def run_e2e_case(case: E2ECase, services: Services) -> list[str]:
    """Every problem found (empty: the case passed)."""
    if case.route == "kafka-postgres":
        return run_kafka_postgres(case, services)
    return run_kinesis_s3(case, services)

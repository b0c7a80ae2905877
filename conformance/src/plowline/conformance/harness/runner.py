"""Running cases against one driver: start it, configure, track, flush, judge, carry on.

A driver that crashes, hangs, writes garbage or breaks the protocol errors the case at hand;
the runner kills it and starts a fresh one for the next case. After ``MAX_START_FAILURES``
starts in a row fail, the remaining cases are errored with the reason instead of retried.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from plowline.conformance.harness.cases import DEFAULT_FLUSH_MS, Case, vector_call
from plowline.conformance.harness.collector import (
    GET_PATH,
    POST_PATH,
    CaptureCollector,
    ScriptedAnswer,
)
from plowline.conformance.harness.driver import DriverProcess, Hello
from plowline.conformance.harness.errors import DriverError, HarnessError
from plowline.conformance.harness.judge import UUID, judge
from plowline.conformance.harness.manifest import Manifest
from plowline.conformance.harness.outcomes import CaseResult, Outcome
from plowline.conformance.harness.wire import decode_all

MAX_START_FAILURES: Final = 3
REPLY_MARGIN_S: Final = 10.0
WAIT_REQUESTS_S: Final = 10.0
SETTLE_S: Final = 0.1
FINAL_RESET_MS: Final = 1000


@dataclass
class RunConfig:
    manifest: Manifest
    reply_timeout_s: float = 15.0
    # The hello after a (re)start also waits for the driver's runtime to boot (an interpreter,
    # a JVM), which a loaded machine can stretch well past a reply's time: its own, longer limit.
    start_timeout_s: float = 60.0
    on_result: Callable[[CaseResult], None] | None = None
    on_start: Callable[[Hello], None] | None = None


@dataclass
class RunResult:
    hello: Hello | None
    results: list[CaseResult] = field(default_factory=list)
    start_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.start_error is None and not any(r.outcome.bad for r in self.results)

    def counts(self) -> dict[str, int]:
        out = {o.value: 0 for o in Outcome}
        for r in self.results:
            out[r.outcome.value] += 1
        return out


class _CaseStop(Exception):  # noqa: N818 (control flow, not an error)
    """Ends a case early with an outcome decided by a reply."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


def _script(case: Case) -> list[ScriptedAnswer]:
    out = []
    for entry in case.collector:
        answer = ScriptedAnswer(
            status=entry.get("status", 200),
            delay_ms=entry.get("delay_ms", 0),
            retry_after=entry.get("retry_after"),
            drop=entry.get("drop", False),
        )
        out += [answer] * entry.get("times", 1)
    return out


def _substitute(value: Any, tmp: str) -> Any:
    if isinstance(value, str):
        return value.replace("{tmp}", tmp)
    if isinstance(value, dict):
        return {k: _substitute(v, tmp) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, tmp) for v in value]
    return value


class Session:
    """One driver (restarted as needed) and one capture collector, for a whole run."""

    def __init__(self, config: RunConfig, collector: CaptureCollector) -> None:
        self.config = config
        self.collector = collector
        self.driver: DriverProcess | None = None
        self.hello: Hello | None = None
        self.start_failures = 0
        self.last_start_error: str | None = None

    def ensure_driver(self) -> DriverProcess:
        if self.driver is not None and self.driver.alive:
            return self.driver
        self.drop_driver()
        if self.start_failures >= MAX_START_FAILURES:
            raise DriverError(
                f"driver not restarted after {self.start_failures} failed starts: "
                f"{self.last_start_error}"
            )
        try:
            driver = DriverProcess(self.config.manifest)
            try:
                hello = driver.hello(max(self.config.start_timeout_s, self.config.reply_timeout_s))
            except BaseException:
                driver.kill()
                raise
        except DriverError as error:
            self.start_failures += 1
            self.last_start_error = str(error)
            raise
        self.start_failures = 0
        self.driver, self.hello = driver, hello
        if self.config.on_start is not None:
            self.config.on_start(hello)
        return driver

    def drop_driver(self) -> None:
        if self.driver is not None:
            self.driver.kill()
            self.driver = None

    def close(self) -> None:
        if self.driver is not None:
            self.driver.close()
            self.driver = None

    def _request(
        self, command: str, body: dict[str, Any], timeout_s: float | None = None
    ) -> dict[str, Any]:
        assert self.driver is not None
        return self.driver.request(command, body, timeout_s or self.config.reply_timeout_s)

    def _check_reply(self, what: str, reply: Mapping[str, Any], want: str, case: Case) -> None:
        """Raise :class:`_CaseStop` unless ``reply`` is what the step expects."""
        status = reply["status"]
        if status == "skipped":
            claimed = self.hello.capabilities if self.hello else frozenset()
            capability = reply.get("capability")
            if capability is not None and capability in claimed and capability in case.requires:
                raise _CaseStop(
                    Outcome.FAILED,
                    f"{what} skipped for capability {capability!r}, which the driver claims: "
                    f"{reply['reason']}",
                )
            raise _CaseStop(Outcome.SKIPPED, f"{what} skipped by the driver: {reply['reason']}")
        kind = reply.get("error_type") if status == "errored" else None
        got = (
            "ok"
            if status == "ok"
            else ("invalid_argument" if kind == "invalid_argument" else "errored")
        )
        if want == got or (want == "errored" and status == "errored"):
            return
        if status == "errored" and kind != "invalid_argument":
            raise _CaseStop(
                Outcome.ERRORED, f"{what} errored ({kind or 'no error_type'}): {reply['message']}"
            )
        detail = f": {reply['message']}" if status == "errored" else ""
        raise _CaseStop(Outcome.FAILED, f"{what} answered {got}, expected {want}{detail}")

    def run_case(self, case: Case) -> CaseResult:
        started = time.monotonic()
        known = self.config.manifest.known_failure(case.id)
        outcome, message, details = self._run(case)
        if known is not None:
            if outcome in (Outcome.FAILED, Outcome.ERRORED):
                message = f"known failure: {known.reason} ({outcome.value}: {message})"
                outcome = Outcome.XFAILED
            elif outcome is Outcome.PASSED:
                outcome, message = Outcome.XPASSED, f"known failure passed: {known.reason}"
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

    def _run(self, case: Case) -> tuple[Outcome, str, list[str]]:
        try:
            self.ensure_driver()
        except DriverError as error:
            return Outcome.ERRORED, f"driver could not start: {error}", []
        assert self.hello is not None
        missing = sorted(case.requires - self.hello.capabilities)
        if missing:
            return Outcome.SKIPPED, "driver lacks " + ", ".join(missing), []
        with tempfile.TemporaryDirectory(prefix="plowline-case-") as tmp:
            try:
                ids = self._steps(case, tmp)
            except _CaseStop as stop:
                self._quiet_reset()
                return stop.outcome, stop.message, []
            except DriverError as error:
                self.drop_driver()
                return Outcome.ERRORED, f"{type(error).__name__}: {error}", []
            except HarnessError as error:  # the case itself is unusable: say so, carry on
                self._quiet_reset()
                return Outcome.ERRORED, f"harness: {error}", []
        self.collector.wait_idle(WAIT_REQUESTS_S)
        decoded = decode_all(self.collector.requests())
        problems = judge(case.expect, decoded)
        if case.expect.get("driver_ids"):
            wire = [e.params.get("eid") for d in decoded for e in d.events if e.accepted]
            if ids and ids != wire:
                problems.append(f"the driver reported event ids {ids}, the wire has {wire}")
        if problems:
            return Outcome.FAILED, problems[0], problems
        return Outcome.PASSED, "", []

    def _quiet_reset(self) -> None:
        """After a case stopped early: reset so no late request spills into the next case."""
        try:
            if self.driver is not None and self.driver.alive:
                self._request("reset", {"timeout_ms": 0}, REPLY_MARGIN_S)
        except DriverError:
            self.drop_driver()

    def _configure(self, case: Case, tmp: str) -> None:
        body = {"endpoint": self.collector.endpoint, **_substitute(dict(case.configure), tmp)}
        reply = self._request("configure", body)
        self._check_reply("configure", reply, "ok", case)

    def _steps(self, case: Case, tmp: str) -> list[str]:
        paths = case.configure.get("paths") or {}
        self.collector.reset(
            _script(case), paths.get("get", GET_PATH), paths.get("post", POST_PATH)
        )
        self._configure(case, tmp)
        ids: list[str] = []
        for number, step in enumerate(case.steps):
            ids += self._step(case, number, step, tmp)
        reply = self._request(
            "reset", {"timeout_ms": FINAL_RESET_MS}, FINAL_RESET_MS / 1000 + REPLY_MARGIN_S
        )
        self._check_reply("final reset", reply, "ok", case)
        return ids

    def _step(self, case: Case, number: int, step: Mapping[str, Any], tmp: str) -> list[str]:
        want = step.get("expect_reply", "ok")
        what = f"step {number}"
        ids: list[str] = []
        if "track" in step or "track_vector" in step:
            body = dict(step["track"]) if "track" in step else vector_call(step["track_vector"])
            for _ in range(step.get("repeat", 1)):
                reply = self._request("track", _substitute(body, tmp))
                self._check_reply(f"{what} (track)", reply, want, case)
                ids += [i for i in reply.get("event_ids", []) if UUID.match(i)]
        if "flush" in step:
            timeout_ms = step["flush"].get("timeout_ms", DEFAULT_FLUSH_MS)
            reply = self._request(
                "flush", {"timeout_ms": timeout_ms}, timeout_ms / 1000 + REPLY_MARGIN_S
            )
            self._check_reply(f"{what} (flush)", reply, want, case)
        if "reset" in step:
            timeout_ms = step["reset"].get("timeout_ms", FINAL_RESET_MS)
            reply = self._request(
                "reset", {"timeout_ms": timeout_ms}, timeout_ms / 1000 + REPLY_MARGIN_S
            )
            self._check_reply(f"{what} (reset)", reply, want, case)
        if step.get("reconfigure"):
            self._configure(case, tmp)
        if "sleep_ms" in step:
            time.sleep(step["sleep_ms"] / 1000)
        if "wait_requests" in step and not self.collector.wait_for(
            step["wait_requests"], WAIT_REQUESTS_S
        ):
            got = len(self.collector.requests())
            raise _CaseStop(
                Outcome.FAILED, f"{what}: {got} request(s), waited for {step['wait_requests']}"
            )
        if "requests_so_far" in step:
            time.sleep(SETTLE_S)
            self.collector.wait_idle(WAIT_REQUESTS_S)
            got = len(self.collector.requests())
            if got != step["requests_so_far"]:
                raise _CaseStop(
                    Outcome.FAILED,
                    f"{what}: {got} request(s) so far, expected {step['requests_so_far']}",
                )
        return ids


def run_cases(cases: Sequence[Case], config: RunConfig) -> RunResult:
    """Run ``cases`` in order against the driver of ``config.manifest``."""
    try:
        config.manifest.prepare()
    except HarnessError as error:
        result = RunResult(hello=None, start_error=str(error))
        for case in cases:
            errored = CaseResult(
                case.id,
                case.group,
                Outcome.ERRORED,
                f"driver not built: {error}",
                tuple(sorted(case.requires)),
                case.covers,
            )
            result.results.append(errored)
            if config.on_result is not None:
                config.on_result(errored)
        return result
    with CaptureCollector() as collector:
        session = Session(config, collector)
        result = RunResult(hello=None)
        try:
            for case in cases:
                case_result = session.run_case(case)
                result.results.append(case_result)
                result.hello = result.hello or session.hello
                if config.on_result is not None:
                    config.on_result(case_result)
        finally:
            session.close()
        if result.hello is None and session.last_start_error:
            result.start_error = session.last_start_error
    return result

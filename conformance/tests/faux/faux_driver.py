"""A deliberately unreliable driver that proves the harness (no plowline imports: stdlib only).

Honest by default: a tiny tracker for page views over GET or POST that really sends to the
harness's collector. It misbehaves on instruction, so the harness tests can check that every
misbehaviour is reported as the right outcome and that the run carries on:

- per event, by a marker in ``page_url``: ``#crash`` (exit), ``#hang`` (never answer),
  ``#garbage`` (a non-JSON line), ``#badreply`` (JSON that breaks the reply schema),
  ``#wrongseq`` (another seq), ``#lie`` (say ok, send nothing), ``#wrongurl`` (send another
  url), ``#refuse`` (invalid_argument), ``#internal`` (errored internal), ``#skipclaimed`` (skip
  naming a claimed capability), ``#skip`` (skip naming none), ``#noise`` (extra stdout line
  before the reply);
- per process, by argument: ``--hello crash|hang|garbage|errored`` breaks the handshake
  (``--boot-s S`` only delays it, as a slow runtime start does),
  ``--claim CAP`` claims one more capability than it has.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from typing import Any
from urllib.parse import urlencode

POST_PATH = "/com.snowplowanalytics.snowplow/tp2"
PAYLOAD = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
CAPABILITIES = ["get", "post", "injected-clock", "injected-event-id", "event-page-view"]


class Faux:
    def __init__(self, claims: list[str]) -> None:
        self.claims = claims
        self.config: dict[str, Any] | None = None
        self.clock = 0
        self.seed_n = 0

    def hello(self, req: dict[str, Any]) -> dict[str, Any]:
        return {
            "protocol": 1,
            "implementation": {"name": "faux", "version": "0", "language": "python"},
            "capabilities": CAPABILITIES + self.claims,
        }

    def configure(self, req: dict[str, Any]) -> dict[str, Any]:
        self.config = req
        self.clock = req.get("clock_ms", int(time.time() * 1000))
        return {}

    def _eid(self, req: dict[str, Any]) -> str:
        if "event_id" in req:
            return str(req["event_id"])
        seed = (self.config or {}).get("event_id_seed", 0)
        self.seed_n += 1
        return f"{seed:08x}-0000-4000-8000-{self.seed_n - 1:012x}"

    def track(self, req: dict[str, Any]) -> dict[str, Any] | None:
        assert self.config is not None
        event = req["event"]
        if event["type"] != "page_view":
            return {
                "status": "skipped",
                "reason": f"no {event['type']}",
                "capability": "event-" + event["type"].replace("_", "-"),
            }
        url = event["page_url"]
        seq = req["seq"]
        if "#crash" in url:
            sys.exit(3)
        if "#hang" in url:
            time.sleep(3600)
        if "#garbage" in url:
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
            return None
        if "#badreply" in url:
            return {"status": "fine"}
        if "#wrongseq" in url:
            return {"seq": seq + 100, "status": "ok"}
        if "#refuse" in url:
            return {"status": "errored", "error_type": "invalid_argument", "message": "refused"}
        if "#internal" in url:
            return {"status": "errored", "error_type": "internal", "message": "boom"}
        if "#skipclaimed" in url:
            return {"status": "skipped", "reason": "cannot", "capability": "event-page-view"}
        if "#skip" in url:
            return {"status": "skipped", "reason": "not today"}
        if "#noise" in url:
            sys.stdout.write('{"seq": 9999, "status": "ok"}\n')
        if "clock_ms" in req:
            self.clock = req["clock_ms"]
        eid = self._eid(req)
        if "#lie" not in url:
            sent = url.replace("#wrongurl", "#other")
            self._send(
                {
                    "e": "pv",
                    "url": sent,
                    "eid": eid,
                    "tv": "faux-0",
                    "dtm": str(self.clock),
                    "stm": str(self.clock),
                    **self._tracker_params(),
                }
            )
        return {"event_ids": [eid]}

    def _tracker_params(self) -> dict[str, str]:
        t = (self.config or {})["tracker"]
        return {"tna": t["namespace"], "aid": t["app_id"], "p": t["platform"]}

    def _send(self, params: dict[str, str]) -> None:
        config = self.config or {}
        endpoint = config["endpoint"]
        if config["method"] == "GET":
            request = urllib.request.Request(f"{endpoint}/i?{urlencode(params)}")  # noqa: S310
        else:
            body = json.dumps({"schema": PAYLOAD, "data": [params]}).encode()
            request = urllib.request.Request(  # noqa: S310 (the harness's loopback collector)
                endpoint + POST_PATH,
                data=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        try:
            urllib.request.urlopen(request, timeout=5).read()  # noqa: S310 (loopback harness)
        except OSError as error:
            print(f"send failed: {error}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hello", choices=["crash", "hang", "garbage", "errored"])
    parser.add_argument("--claim", action="append", default=[])
    parser.add_argument("--boot-s", type=float, default=0.0, help="a slow runtime start")
    args = parser.parse_args()
    time.sleep(args.boot_s)
    faux = Faux(args.claim)
    for line in sys.stdin:
        req = json.loads(line)
        cmd, seq = req["cmd"], req["seq"]
        reply: dict[str, Any] | None
        if cmd == "hello" and args.hello == "crash":
            return 4
        if cmd == "hello" and args.hello == "hang":
            time.sleep(3600)
        if cmd == "hello" and args.hello == "garbage":
            reply, raw = None, "garbage\n"
        elif cmd == "hello" and args.hello == "errored":
            reply, raw = {"status": "errored", "message": "no"}, ""
        else:
            raw = ""
            handler = getattr(faux, cmd, None)
            reply = handler(req) if handler else {}
            if cmd in ("flush", "reset", "stop"):
                reply = {}
        if reply is None:
            sys.stdout.write(raw or "\n")
        else:
            out = {"seq": seq, "status": "ok", **reply}
            sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        if cmd == "stop":
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

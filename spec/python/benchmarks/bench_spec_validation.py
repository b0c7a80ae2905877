"""Benchmark: full validation of a typical web page view POST body, on one core.

The body is a payload_data 1-0-4 SDJ with one page view whose ``cx`` (base64url, no padding, as
the JavaScript tracker sends it) holds web_page and two custom entities. "Validation" is the
whole job: JSON parse with limits, payload_data schema, base64url + JSON of cx, the contexts
wrapper, and each entity against its schema. The baseline is ``json.loads`` of the same bytes,
measured in the same run; the ratio is validations/s divided by json.loads/s.

Run: ``python spec/python/benchmarks/bench_spec_validation.py`` (or ``nox -s bench -- spec``).
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plowline.spec import EmbeddedRegistry, Resolver, Validator

ROUNDS = 5
TARGET_SECONDS = 0.4  # per round and per measured function

SELF_DESC = (
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
)
CUSTOM_SCHEMAS: list[dict[str, Any]] = [
    {
        "$schema": SELF_DESC,
        "description": "A product shown on the page (benchmark entity)",
        "self": {
            "vendor": "com.example",
            "name": "product",
            "format": "jsonschema",
            "version": "1-0-0",
        },
        "type": "object",
        "properties": {
            "sku": {"type": "string", "maxLength": 64},
            "name": {"type": "string", "maxLength": 255},
            "price": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "enum": ["EUR", "GBP", "USD"]},
            "categories": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
            "in_stock": {"type": "boolean"},
        },
        "required": ["sku", "price"],
        "additionalProperties": False,
    },
    {
        "$schema": SELF_DESC,
        "description": "The signed-in user (benchmark entity)",
        "self": {
            "vendor": "com.example",
            "name": "user",
            "format": "jsonschema",
            "version": "1-0-0",
        },
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "plan": {"type": ["string", "null"], "maxLength": 32},
            "logged_in": {"type": "boolean"},
            "visits": {"type": "integer", "minimum": 0},
        },
        "required": ["id"],
        "additionalProperties": False,
    },
]


def page_view_body() -> bytes:
    contexts = {
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
        "data": [
            {
                "schema": "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
                "data": {"id": "9a3c1d0e-5b7f-4e2a-8c6d-1f0e2d3c4b5a"},
            },
            {
                "schema": "iglu:com.example/product/jsonschema/1-0-0",
                "data": {
                    "sku": "SHOE-42-BLUE",
                    "name": "Trail runner",
                    "price": 89.9,
                    "currency": "EUR",
                    "categories": ["shoes", "running"],
                    "in_stock": True,
                },
            },
            {
                "schema": "iglu:com.example/user/jsonschema/1-0-0",
                "data": {
                    "id": "0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0",
                    "plan": "pro",
                    "logged_in": True,
                    "visits": 12,
                },
            },
        ],
    }
    cx = base64.urlsafe_b64encode(json.dumps(contexts).encode()).decode().rstrip("=")
    event = {
        "e": "pv",
        "url": "https://shop.example.com/products/trail-runner?utm_source=news",
        "page": "Trail runner - Example Shop",
        "refr": "https://www.example.org/",
        "eid": "2ec13853-9c0a-4f7b-9d2e-6a4b1c3d5e7f",
        "tv": "js-3.24.2",
        "tna": "sp1",
        "aid": "shop",
        "p": "web",
        "cookie": "1",
        "cs": "UTF-8",
        "lang": "en-GB",
        "res": "2560x1440",
        "cd": "24",
        "tz": "Europe/London",
        "dtm": "1700000000123",
        "vp": "1280x720",
        "ds": "1265x4000",
        "vid": "3",
        "sid": "be9520e7-1d3c-4b5a-8f7e-6d5c4b3a2f1e",
        "duid": "85094061-2c4d-4e6f-8a9b-0c1d2e3f4a5b",
        "cx": cx,
        "stm": "1700000000150",
    }
    body = {
        "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
        "data": [event],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def rate(function: Callable[[], object]) -> float:
    """Calls per CPU second of ``function`` (this thread's CPU time, so other processes on the
    machine disturb the figure less than wall time would): the best of ``ROUNDS`` rounds."""
    clock = time.thread_time
    calls = 1
    while True:  # size a round to about TARGET_SECONDS
        start = clock()
        for _ in range(calls):
            function()
        elapsed = clock() - start
        if elapsed >= TARGET_SECONDS / 4 and elapsed > 0:
            break
        calls *= 2
    calls = max(1, int(calls * TARGET_SECONDS / elapsed))
    best = 0.0
    for _ in range(ROUNDS):
        start = clock()
        for _ in range(calls):
            function()
        best = max(best, calls / max(clock() - start, 1e-9))
    return best


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="plowline-bench-") as tmp:
        for schema in CUSTOM_SCHEMAS:
            meta = schema["self"]
            path = Path(tmp, meta["vendor"], meta["name"], meta["format"], meta["version"])
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(schema))
        # Plowline's own schemas (payload_data, contexts, web_page) plus the custom entities.
        validator = Validator(Resolver([EmbeddedRegistry("benchmark entities", tmp)]))
        body = page_view_body()
        report = validator.validate(body)
        if not report.valid or report.checked != 5:
            print(f"benchmark payload is not valid as expected:\n{report}", file=sys.stderr)
            return 1
        broken = body.replace(b'"e":"pv",', b"", 1)
        if validator.validate(broken).valid:
            print("benchmark: the broken payload validated", file=sys.stderr)
            return 1

        baseline = rate(lambda: json.loads(body))
        valid_rate = rate(lambda: validator.validate(body))
        invalid_rate = rate(lambda: validator.validate(broken))

    print(f"spec validation benchmark ({len(body)} bytes: payload_data 1-0-4, one page view,")
    print("  cx = web_page + 2 custom entities; 5 self-describing documents per validation;")
    print("  rates per CPU second of one thread)")
    print(f"  json.loads of the same bytes (baseline): {baseline:12,.0f} /s")
    print(f"  full validation, valid payload:          {valid_rate:12,.0f} validations/s")
    print(f"  ratio to json.loads:                     {valid_rate / baseline:12.3f}")
    print(f"  invalid payload (missing e, with report): {invalid_rate:11,.0f} validations/s")
    print(f"  goal >= 20,000 validations/s: {'met' if valid_rate >= 20_000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CollectorPayload: the typed record and its Thrift binary (TBinaryProtocol) codec.

The raw record the collector writes and enrich reads. The IDL is spec data
(``spec/protocol/collector_payload.thrift``), loaded once with thriftpy2, whose C-accelerated
binary protocol writes the same bytes as Apache Thrift's ``TSerializer`` (fields in declaration
order, big-endian lengths). thriftpy2 builds its classes at run time, so mypy cannot see them:
this module is the typed boundary and nothing else touches thriftpy2 objects.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Final

import thriftpy2
from plowline.spec.data import data_path
from thriftpy2.protocol import TCyBinaryProtocolFactory
from thriftpy2.utils import serialize

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"
ENCODING: Final = "UTF-8"

_IDL_PATH: Final = data_path("protocol", "collector_payload.thrift")
_module: Any = thriftpy2.load(str(_IDL_PATH), module_name="plowline_collector_payload_thrift")
_ThriftPayload: Any = _module.CollectorPayload
_FACTORY: Final[Any] = TCyBinaryProtocolFactory()  # type: ignore[no-untyped-call]


class PayloadDecodeError(ValueError):
    """Bytes that are not a valid CollectorPayload Thrift record."""


@dataclass(slots=True)
class CollectorPayload:
    """One HTTP request as the collector records it (field names as in the Thrift IDL)."""

    ip_address: str
    timestamp: int
    collector: str
    schema: str = SCHEMA
    encoding: str = ENCODING
    user_agent: str | None = None
    referer_uri: str | None = None
    path: str | None = None
    querystring: str | None = None
    body: str | None = None
    headers: list[str] | None = None
    content_type: str | None = None
    hostname: str | None = None
    network_user_id: str | None = None

    def to_thrift_string(self) -> str:
        """Java-Thrift-like ``toString`` (used for the truncated payload of size violations)."""
        parts = [f"{name}:{getattr(self, attr)!s}" for attr, name in _THRIFT_NAMES.items()]
        return "CollectorPayload(" + ", ".join(parts) + ")"


# dataclass attribute -> Thrift field name, in IDL order.
_THRIFT_NAMES: Final = {
    "schema": "schema",
    "ip_address": "ipAddress",
    "timestamp": "timestamp",
    "encoding": "encoding",
    "collector": "collector",
    "user_agent": "userAgent",
    "referer_uri": "refererUri",
    "path": "path",
    "querystring": "querystring",
    "body": "body",
    "headers": "headers",
    "content_type": "contentType",
    "hostname": "hostname",
    "network_user_id": "networkUserId",
}
assert set(_THRIFT_NAMES) == {f.name for f in fields(CollectorPayload)}


def encode(payload: CollectorPayload) -> bytes:
    """Serialise with TBinaryProtocol, exactly as Snowplow's collectors do."""
    record = _ThriftPayload(
        schema=payload.schema,
        ipAddress=payload.ip_address,
        timestamp=payload.timestamp,
        encoding=payload.encoding,
        collector=payload.collector,
        userAgent=payload.user_agent,
        refererUri=payload.referer_uri,
        path=payload.path,
        querystring=payload.querystring,
        body=payload.body,
        headers=payload.headers,
        contentType=payload.content_type,
        hostname=payload.hostname,
        networkUserId=payload.network_user_id,
    )
    data: bytes = serialize(record, _FACTORY)
    return data


def decode(data: bytes) -> CollectorPayload:
    """Parse one TBinaryProtocol CollectorPayload; raise PayloadDecodeError on anything else.

    A strict, bounds-checked reader of our own: thriftpy2's C reader trusts length prefixes and
    reads past the end of a truncated buffer, which is unacceptable for bytes from a stream.
    Unknown fields are skipped (as Thrift readers do); trailing bytes after STOP are an error.
    """
    reader = _Reader(data)
    values = reader.read_struct()
    if reader.pos != len(data):
        raise PayloadDecodeError(f"{len(data) - reader.pos} trailing bytes after the struct")
    for fid, name in _REQUIRED.items():
        if fid not in values:
            raise PayloadDecodeError(f"required field {name!r} ({fid}) is missing")
    kwargs: dict[str, Any] = {}
    for fid, (attr, ttype) in _FIELDS.items():
        if fid in values:
            value = values[fid]
            if ttype == _T_LIST:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise PayloadDecodeError(f"field {attr} must be a list of strings")
            elif ttype == _T_STRING and not isinstance(value, str):
                raise PayloadDecodeError(f"field {attr} must be a string")
            kwargs[attr] = value
    return CollectorPayload(**kwargs)


# Thrift type codes (TBinaryProtocol).
_T_STOP, _T_BOOL, _T_BYTE, _T_DOUBLE, _T_I16, _T_I32, _T_I64 = 0, 2, 3, 4, 6, 8, 10
_T_STRING, _T_STRUCT, _T_MAP, _T_SET, _T_LIST = 11, 12, 13, 14, 15
_FIXED_SIZES: Final = {_T_BOOL: 1, _T_BYTE: 1, _T_DOUBLE: 8, _T_I16: 2, _T_I32: 4, _T_I64: 8}
_MAX_DEPTH: Final = 16

# field id -> (dataclass attribute, expected type); a known id with another type is skipped,
# as a generated Thrift reader does.
_FIELDS: Final = {
    31337: ("schema", _T_STRING),
    100: ("ip_address", _T_STRING),
    200: ("timestamp", _T_I64),
    210: ("encoding", _T_STRING),
    220: ("collector", _T_STRING),
    300: ("user_agent", _T_STRING),
    310: ("referer_uri", _T_STRING),
    320: ("path", _T_STRING),
    330: ("querystring", _T_STRING),
    340: ("body", _T_STRING),
    350: ("headers", _T_LIST),
    360: ("content_type", _T_STRING),
    400: ("hostname", _T_STRING),
    410: ("network_user_id", _T_STRING),
}
_REQUIRED: Final = {
    31337: "schema",
    100: "ipAddress",
    200: "timestamp",
    210: "encoding",
    220: "collector",
}


class _Reader:
    """Bounds-checked TBinaryProtocol reader for the one struct we need."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def _take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise PayloadDecodeError(
                f"truncated record: need {n} bytes at offset {self.pos}, have "
                f"{len(self.data) - self.pos}"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def _int(self, n: int) -> int:
        return int.from_bytes(self._take(n), "big", signed=True)

    def _string(self) -> str:
        size = self._int(4)
        if size < 0:
            raise PayloadDecodeError(f"negative string length {size}")
        try:
            return str(self._take(size), "utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadDecodeError(f"string is not UTF-8: {exc}") from exc

    def read_struct(self) -> dict[int, Any]:
        values: dict[int, Any] = {}
        while True:
            ttype = self._int(1)
            if ttype == _T_STOP:
                return values
            fid = self._int(2)
            expected = _FIELDS.get(fid)
            if expected is None or expected[1] != ttype:
                self._skip(ttype, 0)
            elif ttype == _T_STRING:
                values[fid] = self._string()
            elif ttype == _T_I64:
                values[fid] = self._int(8)
            else:  # the headers list<string>
                elem, count = self._int(1), self._int(4)
                if elem != _T_STRING or count < 0:
                    raise PayloadDecodeError(f"headers must be list<string>, got type {elem}")
                values[fid] = [self._string() for _ in range(count)]

    def _skip(self, ttype: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise PayloadDecodeError("nesting too deep")
        if ttype in _FIXED_SIZES:
            self._take(_FIXED_SIZES[ttype])
        elif ttype == _T_STRING:
            self._take(self._int(4))
        elif ttype == _T_STRUCT:
            while (inner := self._int(1)) != _T_STOP:
                self._take(2)
                self._skip(inner, depth + 1)
        elif ttype in (_T_LIST, _T_SET):
            elem, count = self._int(1), self._int(4)
            self._skip_many(elem, count, depth)
        elif ttype == _T_MAP:
            key, value, count = self._int(1), self._int(1), self._int(4)
            if count < 0 or count > len(self.data) - self.pos:
                raise PayloadDecodeError(f"implausible map size {count}")
            for _ in range(count):
                self._skip(key, depth + 1)
                self._skip(value, depth + 1)
        else:
            raise PayloadDecodeError(f"unknown thrift type {ttype} at offset {self.pos - 1}")

    def _skip_many(self, elem: int, count: int, depth: int) -> None:
        if count < 0 or count > len(self.data) - self.pos:  # every element takes >= 1 byte
            raise PayloadDecodeError(f"implausible container size {count}")
        for _ in range(count):
            self._skip(elem, depth + 1)

"""Helpers to build CollectorPayloads the way plowline-collector records requests.

Used by the test vectors, the benchmark and Hypothesis tests; mirrors the collector's
``_track`` (headers as ``Name: value``, content type appended, lower-cased for POST only).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from plowline.spec.collector_payload import CollectorPayload

COLLECTOR: str = "ssc-plowline-test"


def payload_from_request(
    method: str,
    path: str,
    query: str | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    ip: str = "127.0.0.1",
    timestamp_ms: int = 1_665_398_554_500,
    network_user_id: str | None = None,
    collector: str = COLLECTOR,
) -> CollectorPayload:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    stored = [f"{'-'.join(p.capitalize() for p in k.split('-'))}: {v}" for k, v in lowered.items()]
    content_type = lowered.get("content-type")
    if content_type is not None:
        stored.append(content_type)
    is_post = method.upper() == "POST"
    host = lowered.get("host")
    if network_user_id is None:
        network_user_id = _network_user_id(query, lowered.get("cookie"))
    return CollectorPayload(
        ip_address=ip,
        timestamp=timestamp_ms,
        collector=collector,
        user_agent=lowered.get("user-agent"),
        referer_uri=lowered.get("referer"),
        path=path,
        querystring=query or None,
        body=body if is_post and body else None,
        headers=stored,
        content_type=content_type.lower() if is_post and content_type else None,
        hostname=host.split(":", 1)[0] if host else None,
        network_user_id=network_user_id,
    )


def _network_user_id(query: str | None, cookie: str | None) -> str | None:
    """Like the collector: a ``nuid`` query parameter, else the ``sp`` cookie."""
    for key, value in parse_qsl(query or "", keep_blank_values=True):
        if key == "nuid" and value:
            return value
    for piece in (cookie or "").split(";"):
        name, _, value = piece.strip().partition("=")
        if name == "sp" and value:
            return value
    return None


# --- a small MaxMind DB writer (tests and benchmarks write their own .mmdb files) -----------

_METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


def _mmdb_control(type_id: int, size: int) -> bytes:
    if size < 29:
        marker, extra = size, b""
    elif size < 285:
        marker, extra = 29, bytes([size - 29])
    elif size < 65821:
        marker, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        marker, extra = 31, (size - 65821).to_bytes(3, "big")
    if type_id <= 7:
        return bytes([(type_id << 5) | marker]) + extra
    return bytes([marker, type_id - 7]) + extra


def mmdb_encode(value: object) -> bytes:
    """One value in the MaxMind DB data-section encoding."""
    if isinstance(value, bool):
        return _mmdb_control(14, int(value))
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _mmdb_control(2, len(raw)) + raw
    if isinstance(value, float):
        import struct

        return _mmdb_control(3, 8) + struct.pack(">d", value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError("negative integers are not supported by this writer")
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
        return _mmdb_control(6 if value < 2**32 else 9, len(raw)) + raw
    if isinstance(value, dict):
        out = bytearray(_mmdb_control(7, len(value)))
        for key, item in value.items():
            out += mmdb_encode(str(key)) + mmdb_encode(item)
        return bytes(out)
    if isinstance(value, list):
        return _mmdb_control(11, len(value)) + b"".join(mmdb_encode(v) for v in value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def write_mmdb(path: str, networks: Mapping[str, object], database_type: str = "Test") -> None:
    """Write an IPv6 MaxMind DB (record size 32) mapping CIDRs to records.

    IPv4 networks are stored in the IPv4-mapped ``::a.b.c.d`` subtree readers walk for IPv4.
    """
    import ipaddress

    nodes: list[list[object]] = [[None, None]]
    data = bytearray()
    for cidr, record in networks.items():
        network = ipaddress.ip_network(cidr, strict=False)
        if network.version == 4:
            bits = int(network.network_address)
            prefix = 96 + network.prefixlen
        else:
            bits = int(network.network_address)
            prefix = network.prefixlen
        offset = len(data)
        data += mmdb_encode(record)
        node = 0
        for depth in range(prefix):
            bit = (bits >> (127 - depth)) & 1
            if depth == prefix - 1:
                nodes[node][bit] = ("data", offset)
                break
            child = nodes[node][bit]
            if not isinstance(child, int):
                nodes.append([None, None])
                child = len(nodes) - 1
                nodes[node][bit] = child
            node = child
    count = len(nodes)

    def record_value(child: object) -> int:
        if child is None:
            return count
        if isinstance(child, int):
            return child
        assert isinstance(child, tuple)
        return count + 16 + int(child[1])

    tree = b"".join(
        record_value(left).to_bytes(4, "big") + record_value(right).to_bytes(4, "big")
        for left, right in nodes
    )
    # libmaxminddb checks metadata types: uint16 (5), uint32 (6), uint64 (9).
    metadata: list[tuple[str, bytes]] = [
        ("node_count", _mmdb_uint(6, count)),
        ("record_size", _mmdb_uint(5, 32)),
        ("ip_version", _mmdb_uint(5, 6)),
        ("database_type", mmdb_encode(database_type)),
        ("languages", mmdb_encode(["en"])),
        ("binary_format_major_version", _mmdb_uint(5, 2)),
        ("binary_format_minor_version", _mmdb_uint(5, 0)),
        ("build_epoch", _mmdb_uint(9, 1_700_000_000)),
        ("description", mmdb_encode({"en": "plowline-enrich test database"})),
    ]
    encoded = _mmdb_control(7, len(metadata)) + b"".join(mmdb_encode(k) + v for k, v in metadata)
    with open(path, "wb") as handle:
        handle.write(tree + bytes(16) + bytes(data) + _METADATA_MARKER + encoded)


def _mmdb_uint(type_id: int, value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return _mmdb_control(type_id, len(raw)) + raw
